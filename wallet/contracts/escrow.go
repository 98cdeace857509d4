// Code generated - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package contracts

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/event"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = errors.New
	_ = big.NewInt
	_ = strings.NewReader
	_ = ethereum.NotFound
	_ = bind.Bind
	_ = common.Big1
	_ = types.BloomLookup
	_ = event.NewSubscription
	_ = abi.ConvertType
	_ = time.Tick
	_ = context.Background
)

// SpareEscrowMetaData contains all meta data concerning the SpareEscrow contract.
var SpareEscrowMetaData = &bind.MetaData{
	ABI: "[{\"inputs\":[],\"name\":\"AboveDeposit\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"BadSignature\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ChannelClosed\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ChannelExists\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"endsAt\",\"type\":\"uint256\"}],\"name\":\"GracePeriod\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"HighS\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"latest\",\"type\":\"uint256\"}],\"name\":\"LockTooLong\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NoCloseRequest\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NotIncreasing\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NotPayee\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NotPayer\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"Reentered\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"TransferFailed\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"UnknownChannel\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroAmount\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"graceEnds\",\"type\":\"uint256\"}],\"name\":\"CloseRequested\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"settled\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"refund\",\"type\":\"uint256\"}],\"name\":\"Closed\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"payer\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"payee\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"address\",\"name\":\"signer\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"deposit\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint64\",\"name\":\"unlockAt\",\"type\":\"uint64\"}],\"name\":\"Opened\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"cumulative\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"}],\"name\":\"Settled\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"deposit\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint64\",\"name\":\"unlockAt\",\"type\":\"uint64\"}],\"name\":\"ToppedUp\",\"type\":\"event\"},{\"inputs\":[],\"name\":\"GRACE_PERIOD\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"MAX_LOCK\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"VOUCHER_TYPEHASH\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"payer\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"payee\",\"type\":\"address\"},{\"internalType\":\"bytes32\",\"name\":\"salt\",\"type\":\"bytes32\"}],\"name\":\"channelId\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"name\":\"channels\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"payer\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"payee\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"signer\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"deposit\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"settled\",\"type\":\"uint256\"},{\"internalType\":\"uint64\",\"name\":\"closeRequestedAt\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"unlockAt\",\"type\":\"uint64\"},{\"internalType\":\"bool\",\"name\":\"closed\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"},{\"internalType\":\"uint256\",\"name\":\"cumulative\",\"type\":\"uint256\"},{\"internalType\":\"bytes\",\"name\":\"sig\",\"type\":\"bytes\"}],\"name\":\"close\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"domainSeparator\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"payee\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"signer\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"internalType\":\"bytes32\",\"name\":\"salt\",\"type\":\"bytes32\"},{\"internalType\":\"uint64\",\"name\":\"unlockAt\",\"type\":\"uint64\"}],\"name\":\"open\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"}],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"}],\"name\":\"requestClose\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"},{\"internalType\":\"uint256\",\"name\":\"cumulative\",\"type\":\"uint256\"},{\"internalType\":\"bytes\",\"name\":\"sig\",\"type\":\"bytes\"}],\"name\":\"settle\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"},{\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"internalType\":\"uint64\",\"name\":\"unlockAt\",\"type\":\"uint64\"}],\"name\":\"topUp\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"},{\"internalType\":\"uint256\",\"name\":\"cumulative\",\"type\":\"uint256\"}],\"name\":\"voucherDigest\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"}],\"name\":\"withdraw\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"}],\"name\":\"withdrawableAt\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"}]",
	Bin: "0x6080604052348015600e575f5ffd5b506114ab8061001c5f395ff3fe608060405234801561000f575f5ffd5b50600436106100e5575f3560e01c806394739e8711610088578063d99b7c9011610063578063d99b7c9014610289578063e55aee261461029c578063e960dbb0146102af578063f698da25146102c2575f5ffd5b806394739e8714610245578063acdee66a1461026c578063c1a287e21461027f575f5ffd5b80636bf5fe6f116100c35780636bf5fe6f1461012c5780637a7ebd7b146101415780638e19899e1461021f57806393deddf214610232575f5ffd5b806352f58734146100e9578063620194ec1461010f57806365a5d5f014610122575b5f5ffd5b6100fc6100f7366004611221565b6102ca565b6040519081526020015b60405180910390f35b6100fc61011d36600461125b565b610319565b6100fc6228de8081565b61013f61013a36600461125b565b6103aa565b005b6101bc61014f36600461125b565b5f6020819052908152604090208054600182015460028301546003840154600485015460058601546006909601546001600160a01b03958616969486169593841694939092169290916001600160401b0380821691600160401b810490911690600160801b900460ff1689565b604080516001600160a01b039a8b168152988a1660208a015296891696880196909652969093166060860152608085019190915260a08401526001600160401b0390811660c084015290921660e082015290151561010082015261012001610106565b61013f61022d36600461125b565b61043f565b61013f610240366004611272565b610523565b6100fc7fd43a6b6bf0a15ec043877638b81c759b4ebbdfc2f4c0e8145bea6779aeead05981565b61013f61027a366004611272565b6105ac565b6100fc6201518081565b61013f610297366004611302565b610645565b6100fc6102aa366004611334565b61080a565b6100fc6102bd366004611354565b6108a9565b6100fc610b01565b604080514660208083019190915230828401526001600160a01b03958616606083015293909416608085015260a0808501929092528051808503909201825260c0909301909252815191012090565b5f81815260208190526040812060068101546001600160401b0316820361034257505f92915050565b60068101545f906001600160401b03600160401b8204811691161161037b576006820154600160401b90046001600160401b031661038a565b60068201546001600160401b03165b6001600160401b031690506103a262015180826113ca565b949350505050565b5f6103b482610ba5565b80549091506001600160a01b031633146103e157604051631435e35760e01b815260040160405180910390fd5b60068101805467ffffffffffffffff1916426001600160401b0316179055817fb5da4f2aea39e4c2ab4be6ce80f5f0c303eb4f7fb88ffb2e87a48a2ce25637b961042a82610319565b60405190815260200160405180910390a25050565b60ff5f5c16156104625760405163b5dfd9e560e01b815260040160405180910390fd5b60015f805c60ff19168217905d505f61047a82610ba5565b80549091506001600160a01b031633146104a757604051631435e35760e01b815260040160405180910390fd5b60068101546001600160401b03165f036104d45760405163084e749760e01b815260040160405180910390fd5b5f6104de83610319565b9050804210156105095760405163a099a04f60e01b8152600481018290526024015b60405180910390fd5b6105138383610c0c565b505f905060ff19815c16815d5050565b60ff5f5c16156105465760405163b5dfd9e560e01b815260040160405180910390fd5b60015f805c60ff19168217905d505f61055e85610ba5565b60018101549091506001600160a01b0316331461058e576040516356cab67b60e01b815260040160405180910390fd5b61059b8582868686610ca1565b505f60ff19815c16815d5050505050565b60ff5f5c16156105cf5760405163b5dfd9e560e01b815260040160405180910390fd5b60015f805c60ff19168217905d505f6105e785610ba5565b60018101549091506001600160a01b03163314610617576040516356cab67b60e01b815260040160405180910390fd5b81158015906106295750806005015484115b1561063b5761063b8582868686610ca1565b61059b8582610c0c565b60ff5f5c16156106685760405163b5dfd9e560e01b815260040160405180910390fd5b60015f805c60ff19168217905d505f61068084610ba5565b80549091506001600160a01b031633146106ad57604051631435e35760e01b815260040160405180910390fd5b821580156106d3575060068101546001600160401b03600160401b909104811690831611155b156106f157604051631f2a200560e01b815260040160405180910390fd5b6106fa82610db1565b60068101546001600160401b03600160401b90910481169083161115610747576006810180546fffffffffffffffff00000000000000001916600160401b6001600160401b038516021790555b60068101805467ffffffffffffffff191690555f831561077f57600382015461077a906001600160a01b03163386610dfa565b610781565b5f5b905080826004015f82825461079691906113ca565b909155505060048201546006830154604080518481526020810193909352600160401b9091046001600160401b03169082015285907f588c573baf66564efa8eff322b51fe25b38febdc230a79e5d079ca6de1790e1a9060600160405180910390a2505f905060ff19815c16815d50505050565b5f610813610b01565b604080517fd43a6b6bf0a15ec043877638b81c759b4ebbdfc2f4c0e8145bea6779aeead0596020820152908101859052606081018490526080016040516020818303038152906040528051906020012060405160200161088a92919061190160f01b81526002810192909252602282015260420190565b6040516020818303038152906040528051906020012090505b92915050565b5f60ff815c16156108cd5760405163b5dfd9e560e01b815260040160405180910390fd5b60015f805c60ff19168217905d50835f036108fb57604051631f2a200560e01b815260040160405180910390fd5b61090482610db1565b61090f3388856102ca565b5f818152602081905260409020549091506001600160a01b0316156109475760405163346000cf60e21b815260040160405180910390fd5b6040805161012081018252338082526001600160a01b038a811660208085019182528b83168587019081528b8416606087019081525f6080880181815260a0890182815260c08a018381526001600160401b038e811660e08d019081526101008d018681528f8752988690529c85209b518c54908b166001600160a01b0319918216178d55985160018d018054918c16918b16919091179055955160028c018054918b16918a16919091179055935160038b018054919099169716969096179096559451600488015592516005870155915160069095018054965191511515600160801b0260ff60801b19928416600160401b026fffffffffffffffffffffffffffffffff199098169690931695909517959095179490941693909317909155610a7390879087610dfa565b5f838152602081815260409182902060040183905581516001600160a01b038b811682528a8116928201929092528083018490526001600160401b038716606082015291519293508a1691339185917f9b4a615898fcc4595e26cbc88f8cd163b702b12a8895efabb66dc3cd128aaf8e9181900360800190a4505f60ff19815c16815d509695505050505050565b604080517f8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f60208201527fffc7623720c834caf0c157da235252b6585c147e6ed4d0496ffbd76c4b6802b9918101919091527fc89efdaa54c0f20c7adf612882df0950f5a951637e0307cdcb4c672f298b8bc660608201524660808201523060a08201525f9060c00160405160208183030381529060405280519060200120905090565b5f81815260208190526040902080546001600160a01b0316610bda57604051633e8c79ed60e11b815260040160405180910390fd5b6006810154600160801b900460ff1615610c0757604051636821b7df60e01b815260040160405180910390fd5b919050565b5f81600501548260040154610c2191906113dd565b60068301805460ff60801b1916600160801b17905590508015610c5c5760038201548254610c5c916001600160a01b03908116911683610f5a565b6005820154604080519182526020820183905284917fae5dc4312c3d3381e38e7d66fc4d59f0a2678332c229c3e61ef1ad527aa34af1910160405180910390a2505050565b83600501548311610cc45760405162a25d4760e71b815260040160405180910390fd5b8360040154831115610ce95760405163056330c160e41b815260040160405180910390fd5b60028401546001600160a01b0316610d0b610d04878661080a565b8484610fb0565b6001600160a01b031614610d3257604051635cd5d23360e01b815260040160405180910390fd5b5f846005015484610d4391906113dd565b6005860185905560038601546001870154919250610d6e916001600160a01b03918216911683610f5a565b604080518581526020810183905287917f2a20f8d2d0f487a3016d77037b3c5768216a3dc76401d33abf5dc381af7171cb910160405180910390a2505050505050565b610dbe6228de80426113ca565b816001600160401b03161115610df757610ddb6228de80426113ca565b604051630e2cf44d60e41b815260040161050091815260200190565b50565b6040516370a0823160e01b81523060048201525f9081906001600160a01b038616906370a0823190602401602060405180830381865afa158015610e40573d5f5f3e3d5ffd5b505050506040513d601f19601f82011682018060405250810190610e6491906113f0565b6040516001600160a01b038616602482015230604482015260648101859052909150610ebe90869060840160408051601f198184030181529190526020810180516001600160e01b03166323b872dd60e01b179052611129565b6040516370a0823160e01b815230600482015281906001600160a01b038716906370a0823190602401602060405180830381865afa158015610f02573d5f5f3e3d5ffd5b505050506040513d601f19601f82011682018060405250810190610f2691906113f0565b610f3091906113dd565b9150815f03610f5257604051631f2a200560e01b815260040160405180910390fd5b509392505050565b6040516001600160a01b038316602482015260448101829052610fab90849060640160408051601f198184030181529190526020810180516001600160e01b031663a9059cbb60e01b179052611129565b505050565b5f60418214610fd257604051635cd5d23360e01b815260040160405180910390fd5b5f610fe06020828587611407565b610fe99161142e565b90505f610ffa604060208688611407565b6110039161142e565b90505f858560408181106110195761101961144b565b919091013560f81c9150507f7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0821115611065576040516363376d6d60e01b815260040160405180910390fd5b8060ff16601b1415801561107d57508060ff16601c14155b1561109b57604051635cd5d23360e01b815260040160405180910390fd5b604080515f81526020810180835289905260ff831691810191909152606081018490526080810183905260019060a0016020604051602081039080840390855afa1580156110eb573d5f5f3e3d5ffd5b5050604051601f1901519450506001600160a01b03841661111f57604051635cd5d23360e01b815260040160405180910390fd5b5050509392505050565b816001600160a01b03163b5f03611153576040516312171d8360e31b815260040160405180910390fd5b5f5f836001600160a01b03168360405161116d919061145f565b5f604051808303815f865af19150503d805f81146111a6576040519150601f19603f3d011682016040523d82523d5f602084013e6111ab565b606091505b50915091508115806111e757508051158015906111e757506020815110806111e75750808060200190518101906111e291906113f0565b600114155b15611205576040516312171d8360e31b815260040160405180910390fd5b50505050565b80356001600160a01b0381168114610c07575f5ffd5b5f5f5f60608486031215611233575f5ffd5b61123c8461120b565b925061124a6020850161120b565b929592945050506040919091013590565b5f6020828403121561126b575f5ffd5b5035919050565b5f5f5f5f60608587031215611285575f5ffd5b843593506020850135925060408501356001600160401b038111156112a8575f5ffd5b8501601f810187136112b8575f5ffd5b80356001600160401b038111156112cd575f5ffd5b8760208284010111156112de575f5ffd5b949793965060200194505050565b80356001600160401b0381168114610c07575f5ffd5b5f5f5f60608486031215611314575f5ffd5b833592506020840135915061132b604085016112ec565b90509250925092565b5f5f60408385031215611345575f5ffd5b50508035926020909101359150565b5f5f5f5f5f5f60c08789031215611369575f5ffd5b6113728761120b565b95506113806020880161120b565b945061138e6040880161120b565b935060608701359250608087013591506113aa60a088016112ec565b90509295509295509295565b634e487b7160e01b5f52601160045260245ffd5b808201808211156108a3576108a36113b6565b818103818111156108a3576108a36113b6565b5f60208284031215611400575f5ffd5b5051919050565b5f5f85851115611415575f5ffd5b83861115611421575f5ffd5b5050820193919092039150565b803560208310156108a3575f19602084900360031b1b1692915050565b634e487b7160e01b5f52603260045260245ffd5b5f82518060208501845e5f92019182525091905056fea264697066735822122067100f72beaf8482c228da5b846d3b1f663c1612e9b2a71a42b5f4efb8ae27dc64736f6c634300081c0033",
}

// SpareEscrowABI is the input ABI used to generate the binding from.
// Deprecated: Use SpareEscrowMetaData.ABI instead.
var SpareEscrowABI = SpareEscrowMetaData.ABI

// SpareEscrowBin is the compiled bytecode used for deploying new contracts.
// Deprecated: Use SpareEscrowMetaData.Bin instead.
var SpareEscrowBin = SpareEscrowMetaData.Bin

// DeploySpareEscrow deploys a new Ethereum contract, binding an instance of SpareEscrow to it.
func DeploySpareEscrow(auth *bind.TransactOpts, backend bind.ContractBackend) (common.Address, *types.Transaction, *SpareEscrow, error) {
	parsed, err := SpareEscrowMetaData.GetAbi()
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	if parsed == nil {
		return common.Address{}, nil, nil, errors.New("GetABI returned nil")
	}

	address, tx, contract, err := bind.DeployContract(auth, *parsed, common.FromHex(SpareEscrowBin), backend)
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	return address, tx, &SpareEscrow{SpareEscrowCaller: SpareEscrowCaller{contract: contract}, SpareEscrowTransactor: SpareEscrowTransactor{contract: contract}, SpareEscrowFilterer: SpareEscrowFilterer{contract: contract}}, nil
}

// SpareEscrow is an auto generated Go binding around an Ethereum contract.
type SpareEscrow struct {
	SpareEscrowCaller     // Read-only binding to the contract
	SpareEscrowTransactor // Write-only binding to the contract
	SpareEscrowFilterer   // Log filterer for contract events
}

// SpareEscrowCaller is an auto generated read-only Go binding around an Ethereum contract.
type SpareEscrowCaller struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// SpareEscrowTransactor is an auto generated write-only Go binding around an Ethereum contract.
type SpareEscrowTransactor struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// SpareEscrowFilterer is an auto generated log filtering Go binding around an Ethereum contract events.
type SpareEscrowFilterer struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// SpareEscrowSession is an auto generated Go binding around an Ethereum contract,
// with pre-set call and transact options.
type SpareEscrowSession struct {
	Contract     *SpareEscrow      // Generic contract binding to set the session for
	CallOpts     bind.CallOpts     // Call options to use throughout this session
	TransactOpts bind.TransactOpts // Transaction auth options to use throughout this session
}

// SpareEscrowCallerSession is an auto generated read-only Go binding around an Ethereum contract,
// with pre-set call options.
type SpareEscrowCallerSession struct {
	Contract *SpareEscrowCaller // Generic contract caller binding to set the session for
	CallOpts bind.CallOpts      // Call options to use throughout this session
}

// SpareEscrowTransactorSession is an auto generated write-only Go binding around an Ethereum contract,
// with pre-set transact options.
type SpareEscrowTransactorSession struct {
	Contract     *SpareEscrowTransactor // Generic contract transactor binding to set the session for
	TransactOpts bind.TransactOpts      // Transaction auth options to use throughout this session
}

// SpareEscrowRaw is an auto generated low-level Go binding around an Ethereum contract.
type SpareEscrowRaw struct {
	Contract *SpareEscrow // Generic contract binding to access the raw methods on
}

// SpareEscrowCallerRaw is an auto generated low-level read-only Go binding around an Ethereum contract.
type SpareEscrowCallerRaw struct {
	Contract *SpareEscrowCaller // Generic read-only contract binding to access the raw methods on
}

// SpareEscrowTransactorRaw is an auto generated low-level write-only Go binding around an Ethereum contract.
type SpareEscrowTransactorRaw struct {
	Contract *SpareEscrowTransactor // Generic write-only contract binding to access the raw methods on
}

// NewSpareEscrow creates a new instance of SpareEscrow, bound to a specific deployed contract.
func NewSpareEscrow(address common.Address, backend bind.ContractBackend) (*SpareEscrow, error) {
	contract, err := bindSpareEscrow(address, backend, backend, backend)
	if err != nil {
		return nil, err
	}
	return &SpareEscrow{SpareEscrowCaller: SpareEscrowCaller{contract: contract}, SpareEscrowTransactor: SpareEscrowTransactor{contract: contract}, SpareEscrowFilterer: SpareEscrowFilterer{contract: contract}}, nil
}

// NewSpareEscrowCaller creates a new read-only instance of SpareEscrow, bound to a specific deployed contract.
func NewSpareEscrowCaller(address common.Address, caller bind.ContractCaller) (*SpareEscrowCaller, error) {
	contract, err := bindSpareEscrow(address, caller, nil, nil)
	if err != nil {
		return nil, err
	}
	return &SpareEscrowCaller{contract: contract}, nil
}

// NewSpareEscrowTransactor creates a new write-only instance of SpareEscrow, bound to a specific deployed contract.
func NewSpareEscrowTransactor(address common.Address, transactor bind.ContractTransactor) (*SpareEscrowTransactor, error) {
	contract, err := bindSpareEscrow(address, nil, transactor, nil)
	if err != nil {
		return nil, err
	}
	return &SpareEscrowTransactor{contract: contract}, nil
}

// NewSpareEscrowFilterer creates a new log filterer instance of SpareEscrow, bound to a specific deployed contract.
func NewSpareEscrowFilterer(address common.Address, filterer bind.ContractFilterer) (*SpareEscrowFilterer, error) {
	contract, err := bindSpareEscrow(address, nil, nil, filterer)
	if err != nil {
		return nil, err
	}
	return &SpareEscrowFilterer{contract: contract}, nil
}

// bindSpareEscrow binds a generic wrapper to an already deployed contract.
func bindSpareEscrow(address common.Address, caller bind.ContractCaller, transactor bind.ContractTransactor, filterer bind.ContractFilterer) (*bind.BoundContract, error) {
	parsed, err := SpareEscrowMetaData.GetAbi()
	if err != nil {
		return nil, err
	}
	return bind.NewBoundContract(address, *parsed, caller, transactor, filterer), nil
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_SpareEscrow *SpareEscrowRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _SpareEscrow.Contract.SpareEscrowCaller.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_SpareEscrow *SpareEscrowRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _SpareEscrow.Contract.SpareEscrowTransactor.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_SpareEscrow *SpareEscrowRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _SpareEscrow.Contract.SpareEscrowTransactor.contract.Transact(opts, method, params...)
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_SpareEscrow *SpareEscrowCallerRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _SpareEscrow.Contract.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_SpareEscrow *SpareEscrowTransactorRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _SpareEscrow.Contract.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_SpareEscrow *SpareEscrowTransactorRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _SpareEscrow.Contract.contract.Transact(opts, method, params...)
}

// GRACEPERIOD is a free data retrieval call binding the contract method 0xc1a287e2.
//
// Solidity: function GRACE_PERIOD() view returns(uint256)
func (_SpareEscrow *SpareEscrowCaller) GRACEPERIOD(opts *bind.CallOpts) (*big.Int, error) {
	var out []interface{}
	err := _SpareEscrow.contract.Call(opts, &out, "GRACE_PERIOD")

	if err != nil {
		return *new(*big.Int), err
	}

	out0 := *abi.ConvertType(out[0], new(*big.Int)).(**big.Int)

	return out0, err

}

// GRACEPERIOD is a free data retrieval call binding the contract method 0xc1a287e2.
//
// Solidity: function GRACE_PERIOD() view returns(uint256)
func (_SpareEscrow *SpareEscrowSession) GRACEPERIOD() (*big.Int, error) {
	return _SpareEscrow.Contract.GRACEPERIOD(&_SpareEscrow.CallOpts)
}

// GRACEPERIOD is a free data retrieval call binding the contract method 0xc1a287e2.
//
// Solidity: function GRACE_PERIOD() view returns(uint256)
func (_SpareEscrow *SpareEscrowCallerSession) GRACEPERIOD() (*big.Int, error) {
	return _SpareEscrow.Contract.GRACEPERIOD(&_SpareEscrow.CallOpts)
}

// MAXLOCK is a free data retrieval call binding the contract method 0x65a5d5f0.
//
// Solidity: function MAX_LOCK() view returns(uint256)
func (_SpareEscrow *SpareEscrowCaller) MAXLOCK(opts *bind.CallOpts) (*big.Int, error) {
	var out []interface{}
	err := _SpareEscrow.contract.Call(opts, &out, "MAX_LOCK")

	if err != nil {
		return *new(*big.Int), err
	}

	out0 := *abi.ConvertType(out[0], new(*big.Int)).(**big.Int)

	return out0, err

}

// MAXLOCK is a free data retrieval call binding the contract method 0x65a5d5f0.
//
// Solidity: function MAX_LOCK() view returns(uint256)
func (_SpareEscrow *SpareEscrowSession) MAXLOCK() (*big.Int, error) {
	return _SpareEscrow.Contract.MAXLOCK(&_SpareEscrow.CallOpts)
}

// MAXLOCK is a free data retrieval call binding the contract method 0x65a5d5f0.
//
// Solidity: function MAX_LOCK() view returns(uint256)
func (_SpareEscrow *SpareEscrowCallerSession) MAXLOCK() (*big.Int, error) {
	return _SpareEscrow.Contract.MAXLOCK(&_SpareEscrow.CallOpts)
}

// VOUCHERTYPEHASH is a free data retrieval call binding the contract method 0x94739e87.
//
// Solidity: function VOUCHER_TYPEHASH() view returns(bytes32)
func (_SpareEscrow *SpareEscrowCaller) VOUCHERTYPEHASH(opts *bind.CallOpts) ([32]byte, error) {
	var out []interface{}
	err := _SpareEscrow.contract.Call(opts, &out, "VOUCHER_TYPEHASH")

	if err != nil {
		return *new([32]byte), err
	}

	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)

	return out0, err

}

// VOUCHERTYPEHASH is a free data retrieval call binding the contract method 0x94739e87.
//
// Solidity: function VOUCHER_TYPEHASH() view returns(bytes32)
func (_SpareEscrow *SpareEscrowSession) VOUCHERTYPEHASH() ([32]byte, error) {
	return _SpareEscrow.Contract.VOUCHERTYPEHASH(&_SpareEscrow.CallOpts)
}

// VOUCHERTYPEHASH is a free data retrieval call binding the contract method 0x94739e87.
//
// Solidity: function VOUCHER_TYPEHASH() view returns(bytes32)
func (_SpareEscrow *SpareEscrowCallerSession) VOUCHERTYPEHASH() ([32]byte, error) {
	return _SpareEscrow.Contract.VOUCHERTYPEHASH(&_SpareEscrow.CallOpts)
}

// ChannelId is a free data retrieval call binding the contract method 0x52f58734.
//
// Solidity: function channelId(address payer, address payee, bytes32 salt) view returns(bytes32)
func (_SpareEscrow *SpareEscrowCaller) ChannelId(opts *bind.CallOpts, payer common.Address, payee common.Address, salt [32]byte) ([32]byte, error) {
	var out []interface{}
	err := _SpareEscrow.contract.Call(opts, &out, "channelId", payer, payee, salt)

	if err != nil {
		return *new([32]byte), err
	}

	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)

	return out0, err

}

// ChannelId is a free data retrieval call binding the contract method 0x52f58734.
//
// Solidity: function channelId(address payer, address payee, bytes32 salt) view returns(bytes32)
func (_SpareEscrow *SpareEscrowSession) ChannelId(payer common.Address, payee common.Address, salt [32]byte) ([32]byte, error) {
	return _SpareEscrow.Contract.ChannelId(&_SpareEscrow.CallOpts, payer, payee, salt)
}

// ChannelId is a free data retrieval call binding the contract method 0x52f58734.
//
// Solidity: function channelId(address payer, address payee, bytes32 salt) view returns(bytes32)
func (_SpareEscrow *SpareEscrowCallerSession) ChannelId(payer common.Address, payee common.Address, salt [32]byte) ([32]byte, error) {
	return _SpareEscrow.Contract.ChannelId(&_SpareEscrow.CallOpts, payer, payee, salt)
}

// Channels is a free data retrieval call binding the contract method 0x7a7ebd7b.
//
// Solidity: function channels(bytes32 ) view returns(address payer, address payee, address signer, address token, uint256 deposit, uint256 settled, uint64 closeRequestedAt, uint64 unlockAt, bool closed)
func (_SpareEscrow *SpareEscrowCaller) Channels(opts *bind.CallOpts, arg0 [32]byte) (struct {
	Payer            common.Address
	Payee            common.Address
	Signer           common.Address
	Token            common.Address
	Deposit          *big.Int
	Settled          *big.Int
	CloseRequestedAt uint64
	UnlockAt         uint64
	Closed           bool
}, error) {
	var out []interface{}
	err := _SpareEscrow.contract.Call(opts, &out, "channels", arg0)

	outstruct := new(struct {
		Payer            common.Address
		Payee            common.Address
		Signer           common.Address
		Token            common.Address
		Deposit          *big.Int
		Settled          *big.Int
		CloseRequestedAt uint64
		UnlockAt         uint64
		Closed           bool
	})
	if err != nil {
		return *outstruct, err
	}

	outstruct.Payer = *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	outstruct.Payee = *abi.ConvertType(out[1], new(common.Address)).(*common.Address)
	outstruct.Signer = *abi.ConvertType(out[2], new(common.Address)).(*common.Address)
	outstruct.Token = *abi.ConvertType(out[3], new(common.Address)).(*common.Address)
	outstruct.Deposit = *abi.ConvertType(out[4], new(*big.Int)).(**big.Int)
	outstruct.Settled = *abi.ConvertType(out[5], new(*big.Int)).(**big.Int)
	outstruct.CloseRequestedAt = *abi.ConvertType(out[6], new(uint64)).(*uint64)
	outstruct.UnlockAt = *abi.ConvertType(out[7], new(uint64)).(*uint64)
	outstruct.Closed = *abi.ConvertType(out[8], new(bool)).(*bool)

	return *outstruct, err

}

// Channels is a free data retrieval call binding the contract method 0x7a7ebd7b.
//
// Solidity: function channels(bytes32 ) view returns(address payer, address payee, address signer, address token, uint256 deposit, uint256 settled, uint64 closeRequestedAt, uint64 unlockAt, bool closed)
func (_SpareEscrow *SpareEscrowSession) Channels(arg0 [32]byte) (struct {
	Payer            common.Address
	Payee            common.Address
	Signer           common.Address
	Token            common.Address
	Deposit          *big.Int
	Settled          *big.Int
	CloseRequestedAt uint64
	UnlockAt         uint64
	Closed           bool
}, error) {
	return _SpareEscrow.Contract.Channels(&_SpareEscrow.CallOpts, arg0)
}

// Channels is a free data retrieval call binding the contract method 0x7a7ebd7b.
//
// Solidity: function channels(bytes32 ) view returns(address payer, address payee, address signer, address token, uint256 deposit, uint256 settled, uint64 closeRequestedAt, uint64 unlockAt, bool closed)
func (_SpareEscrow *SpareEscrowCallerSession) Channels(arg0 [32]byte) (struct {
	Payer            common.Address
	Payee            common.Address
	Signer           common.Address
	Token            common.Address
	Deposit          *big.Int
	Settled          *big.Int
	CloseRequestedAt uint64
	UnlockAt         uint64
	Closed           bool
}, error) {
	return _SpareEscrow.Contract.Channels(&_SpareEscrow.CallOpts, arg0)
}

// DomainSeparator is a free data retrieval call binding the contract method 0xf698da25.
//
// Solidity: function domainSeparator() view returns(bytes32)
func (_SpareEscrow *SpareEscrowCaller) DomainSeparator(opts *bind.CallOpts) ([32]byte, error) {
	var out []interface{}
	err := _SpareEscrow.contract.Call(opts, &out, "domainSeparator")

	if err != nil {
		return *new([32]byte), err
	}

	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)

	return out0, err

}

// DomainSeparator is a free data retrieval call binding the contract method 0xf698da25.
//
// Solidity: function domainSeparator() view returns(bytes32)
func (_SpareEscrow *SpareEscrowSession) DomainSeparator() ([32]byte, error) {
	return _SpareEscrow.Contract.DomainSeparator(&_SpareEscrow.CallOpts)
}

// DomainSeparator is a free data retrieval call binding the contract method 0xf698da25.
//
// Solidity: function domainSeparator() view returns(bytes32)
func (_SpareEscrow *SpareEscrowCallerSession) DomainSeparator() ([32]byte, error) {
	return _SpareEscrow.Contract.DomainSeparator(&_SpareEscrow.CallOpts)
}

// VoucherDigest is a free data retrieval call binding the contract method 0xe55aee26.
//
// Solidity: function voucherDigest(bytes32 id, uint256 cumulative) view returns(bytes32)
func (_SpareEscrow *SpareEscrowCaller) VoucherDigest(opts *bind.CallOpts, id [32]byte, cumulative *big.Int) ([32]byte, error) {
	var out []interface{}
	err := _SpareEscrow.contract.Call(opts, &out, "voucherDigest", id, cumulative)

	if err != nil {
		return *new([32]byte), err
	}

	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)

	return out0, err

}

// VoucherDigest is a free data retrieval call binding the contract method 0xe55aee26.
//
// Solidity: function voucherDigest(bytes32 id, uint256 cumulative) view returns(bytes32)
func (_SpareEscrow *SpareEscrowSession) VoucherDigest(id [32]byte, cumulative *big.Int) ([32]byte, error) {
	return _SpareEscrow.Contract.VoucherDigest(&_SpareEscrow.CallOpts, id, cumulative)
}

// VoucherDigest is a free data retrieval call binding the contract method 0xe55aee26.
//
// Solidity: function voucherDigest(bytes32 id, uint256 cumulative) view returns(bytes32)
func (_SpareEscrow *SpareEscrowCallerSession) VoucherDigest(id [32]byte, cumulative *big.Int) ([32]byte, error) {
	return _SpareEscrow.Contract.VoucherDigest(&_SpareEscrow.CallOpts, id, cumulative)
}

// WithdrawableAt is a free data retrieval call binding the contract method 0x620194ec.
//
// Solidity: function withdrawableAt(bytes32 id) view returns(uint256)
func (_SpareEscrow *SpareEscrowCaller) WithdrawableAt(opts *bind.CallOpts, id [32]byte) (*big.Int, error) {
	var out []interface{}
	err := _SpareEscrow.contract.Call(opts, &out, "withdrawableAt", id)

	if err != nil {
		return *new(*big.Int), err
	}

	out0 := *abi.ConvertType(out[0], new(*big.Int)).(**big.Int)

	return out0, err

}

// WithdrawableAt is a free data retrieval call binding the contract method 0x620194ec.
//
// Solidity: function withdrawableAt(bytes32 id) view returns(uint256)
func (_SpareEscrow *SpareEscrowSession) WithdrawableAt(id [32]byte) (*big.Int, error) {
	return _SpareEscrow.Contract.WithdrawableAt(&_SpareEscrow.CallOpts, id)
}

// WithdrawableAt is a free data retrieval call binding the contract method 0x620194ec.
//
// Solidity: function withdrawableAt(bytes32 id) view returns(uint256)
func (_SpareEscrow *SpareEscrowCallerSession) WithdrawableAt(id [32]byte) (*big.Int, error) {
	return _SpareEscrow.Contract.WithdrawableAt(&_SpareEscrow.CallOpts, id)
}

// Close is a paid mutator transaction binding the contract method 0xacdee66a.
//
// Solidity: function close(bytes32 id, uint256 cumulative, bytes sig) returns()
func (_SpareEscrow *SpareEscrowTransactor) Close(opts *bind.TransactOpts, id [32]byte, cumulative *big.Int, sig []byte) (*types.Transaction, error) {
	return _SpareEscrow.contract.Transact(opts, "close", id, cumulative, sig)
}

// Close is a paid mutator transaction binding the contract method 0xacdee66a.
//
// Solidity: function close(bytes32 id, uint256 cumulative, bytes sig) returns()
func (_SpareEscrow *SpareEscrowSession) Close(id [32]byte, cumulative *big.Int, sig []byte) (*types.Transaction, error) {
	return _SpareEscrow.Contract.Close(&_SpareEscrow.TransactOpts, id, cumulative, sig)
}

// Close is a paid mutator transaction binding the contract method 0xacdee66a.
//
// Solidity: function close(bytes32 id, uint256 cumulative, bytes sig) returns()
func (_SpareEscrow *SpareEscrowTransactorSession) Close(id [32]byte, cumulative *big.Int, sig []byte) (*types.Transaction, error) {
	return _SpareEscrow.Contract.Close(&_SpareEscrow.TransactOpts, id, cumulative, sig)
}

// Open is a paid mutator transaction binding the contract method 0xe960dbb0.
//
// Solidity: function open(address payee, address signer, address token, uint256 amount, bytes32 salt, uint64 unlockAt) returns(bytes32 id)
func (_SpareEscrow *SpareEscrowTransactor) Open(opts *bind.TransactOpts, payee common.Address, signer common.Address, token common.Address, amount *big.Int, salt [32]byte, unlockAt uint64) (*types.Transaction, error) {
	return _SpareEscrow.contract.Transact(opts, "open", payee, signer, token, amount, salt, unlockAt)
}

// Open is a paid mutator transaction binding the contract method 0xe960dbb0.
//
// Solidity: function open(address payee, address signer, address token, uint256 amount, bytes32 salt, uint64 unlockAt) returns(bytes32 id)
func (_SpareEscrow *SpareEscrowSession) Open(payee common.Address, signer common.Address, token common.Address, amount *big.Int, salt [32]byte, unlockAt uint64) (*types.Transaction, error) {
	return _SpareEscrow.Contract.Open(&_SpareEscrow.TransactOpts, payee, signer, token, amount, salt, unlockAt)
}

// Open is a paid mutator transaction binding the contract method 0xe960dbb0.
//
// Solidity: function open(address payee, address signer, address token, uint256 amount, bytes32 salt, uint64 unlockAt) returns(bytes32 id)
func (_SpareEscrow *SpareEscrowTransactorSession) Open(payee common.Address, signer common.Address, token common.Address, amount *big.Int, salt [32]byte, unlockAt uint64) (*types.Transaction, error) {
	return _SpareEscrow.Contract.Open(&_SpareEscrow.TransactOpts, payee, signer, token, amount, salt, unlockAt)
}

// RequestClose is a paid mutator transaction binding the contract method 0x6bf5fe6f.
//
// Solidity: function requestClose(bytes32 id) returns()
func (_SpareEscrow *SpareEscrowTransactor) RequestClose(opts *bind.TransactOpts, id [32]byte) (*types.Transaction, error) {
	return _SpareEscrow.contract.Transact(opts, "requestClose", id)
}

// RequestClose is a paid mutator transaction binding the contract method 0x6bf5fe6f.
//
// Solidity: function requestClose(bytes32 id) returns()
func (_SpareEscrow *SpareEscrowSession) RequestClose(id [32]byte) (*types.Transaction, error) {
	return _SpareEscrow.Contract.RequestClose(&_SpareEscrow.TransactOpts, id)
}

// RequestClose is a paid mutator transaction binding the contract method 0x6bf5fe6f.
//
// Solidity: function requestClose(bytes32 id) returns()
func (_SpareEscrow *SpareEscrowTransactorSession) RequestClose(id [32]byte) (*types.Transaction, error) {
	return _SpareEscrow.Contract.RequestClose(&_SpareEscrow.TransactOpts, id)
}

// Settle is a paid mutator transaction binding the contract method 0x93deddf2.
//
// Solidity: function settle(bytes32 id, uint256 cumulative, bytes sig) returns()
func (_SpareEscrow *SpareEscrowTransactor) Settle(opts *bind.TransactOpts, id [32]byte, cumulative *big.Int, sig []byte) (*types.Transaction, error) {
	return _SpareEscrow.contract.Transact(opts, "settle", id, cumulative, sig)
}

// Settle is a paid mutator transaction binding the contract method 0x93deddf2.
//
// Solidity: function settle(bytes32 id, uint256 cumulative, bytes sig) returns()
func (_SpareEscrow *SpareEscrowSession) Settle(id [32]byte, cumulative *big.Int, sig []byte) (*types.Transaction, error) {
	return _SpareEscrow.Contract.Settle(&_SpareEscrow.TransactOpts, id, cumulative, sig)
}

// Settle is a paid mutator transaction binding the contract method 0x93deddf2.
//
// Solidity: function settle(bytes32 id, uint256 cumulative, bytes sig) returns()
func (_SpareEscrow *SpareEscrowTransactorSession) Settle(id [32]byte, cumulative *big.Int, sig []byte) (*types.Transaction, error) {
	return _SpareEscrow.Contract.Settle(&_SpareEscrow.TransactOpts, id, cumulative, sig)
}

// TopUp is a paid mutator transaction binding the contract method 0xd99b7c90.
//
// Solidity: function topUp(bytes32 id, uint256 amount, uint64 unlockAt) returns()
func (_SpareEscrow *SpareEscrowTransactor) TopUp(opts *bind.TransactOpts, id [32]byte, amount *big.Int, unlockAt uint64) (*types.Transaction, error) {
	return _SpareEscrow.contract.Transact(opts, "topUp", id, amount, unlockAt)
}

// TopUp is a paid mutator transaction binding the contract method 0xd99b7c90.
//
// Solidity: function topUp(bytes32 id, uint256 amount, uint64 unlockAt) returns()
func (_SpareEscrow *SpareEscrowSession) TopUp(id [32]byte, amount *big.Int, unlockAt uint64) (*types.Transaction, error) {
	return _SpareEscrow.Contract.TopUp(&_SpareEscrow.TransactOpts, id, amount, unlockAt)
}

// TopUp is a paid mutator transaction binding the contract method 0xd99b7c90.
//
// Solidity: function topUp(bytes32 id, uint256 amount, uint64 unlockAt) returns()
func (_SpareEscrow *SpareEscrowTransactorSession) TopUp(id [32]byte, amount *big.Int, unlockAt uint64) (*types.Transaction, error) {
	return _SpareEscrow.Contract.TopUp(&_SpareEscrow.TransactOpts, id, amount, unlockAt)
}

// Withdraw is a paid mutator transaction binding the contract method 0x8e19899e.
//
// Solidity: function withdraw(bytes32 id) returns()
func (_SpareEscrow *SpareEscrowTransactor) Withdraw(opts *bind.TransactOpts, id [32]byte) (*types.Transaction, error) {
	return _SpareEscrow.contract.Transact(opts, "withdraw", id)
}

// Withdraw is a paid mutator transaction binding the contract method 0x8e19899e.
//
// Solidity: function withdraw(bytes32 id) returns()
func (_SpareEscrow *SpareEscrowSession) Withdraw(id [32]byte) (*types.Transaction, error) {
	return _SpareEscrow.Contract.Withdraw(&_SpareEscrow.TransactOpts, id)
}

// Withdraw is a paid mutator transaction binding the contract method 0x8e19899e.
//
// Solidity: function withdraw(bytes32 id) returns()
func (_SpareEscrow *SpareEscrowTransactorSession) Withdraw(id [32]byte) (*types.Transaction, error) {
	return _SpareEscrow.Contract.Withdraw(&_SpareEscrow.TransactOpts, id)
}

// SpareEscrowCloseRequestedIterator is returned from FilterCloseRequested and is used to iterate over the raw logs and unpacked data for CloseRequested events raised by the SpareEscrow contract.
type SpareEscrowCloseRequestedIterator struct {
	Event *SpareEscrowCloseRequested // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *SpareEscrowCloseRequestedIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(SpareEscrowCloseRequested)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(SpareEscrowCloseRequested)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *SpareEscrowCloseRequestedIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *SpareEscrowCloseRequestedIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// SpareEscrowCloseRequested represents a CloseRequested event raised by the SpareEscrow contract.
type SpareEscrowCloseRequested struct {
	Id        [32]byte
	GraceEnds *big.Int
	Raw       types.Log // Blockchain specific contextual infos
}

// FilterCloseRequested is a free log retrieval operation binding the contract event 0xb5da4f2aea39e4c2ab4be6ce80f5f0c303eb4f7fb88ffb2e87a48a2ce25637b9.
//
// Solidity: event CloseRequested(bytes32 indexed id, uint256 graceEnds)
func (_SpareEscrow *SpareEscrowFilterer) FilterCloseRequested(opts *bind.FilterOpts, id [][32]byte) (*SpareEscrowCloseRequestedIterator, error) {

	var idRule []interface{}
	for _, idItem := range id {
		idRule = append(idRule, idItem)
	}

	logs, sub, err := _SpareEscrow.contract.FilterLogs(opts, "CloseRequested", idRule)
	if err != nil {
		return nil, err
	}
	return &SpareEscrowCloseRequestedIterator{contract: _SpareEscrow.contract, event: "CloseRequested", logs: logs, sub: sub}, nil
}

// WatchCloseRequested is a free log subscription operation binding the contract event 0xb5da4f2aea39e4c2ab4be6ce80f5f0c303eb4f7fb88ffb2e87a48a2ce25637b9.
//
// Solidity: event CloseRequested(bytes32 indexed id, uint256 graceEnds)
func (_SpareEscrow *SpareEscrowFilterer) WatchCloseRequested(opts *bind.WatchOpts, sink chan<- *SpareEscrowCloseRequested, id [][32]byte) (event.Subscription, error) {

	var idRule []interface{}
	for _, idItem := range id {
		idRule = append(idRule, idItem)
	}

	logs, sub, err := _SpareEscrow.contract.WatchLogs(opts, "CloseRequested", idRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(SpareEscrowCloseRequested)
				if err := _SpareEscrow.contract.UnpackLog(event, "CloseRequested", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseCloseRequested is a log parse operation binding the contract event 0xb5da4f2aea39e4c2ab4be6ce80f5f0c303eb4f7fb88ffb2e87a48a2ce25637b9.
//
// Solidity: event CloseRequested(bytes32 indexed id, uint256 graceEnds)
func (_SpareEscrow *SpareEscrowFilterer) ParseCloseRequested(log types.Log) (*SpareEscrowCloseRequested, error) {
	event := new(SpareEscrowCloseRequested)
	if err := _SpareEscrow.contract.UnpackLog(event, "CloseRequested", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// SpareEscrowClosedIterator is returned from FilterClosed and is used to iterate over the raw logs and unpacked data for Closed events raised by the SpareEscrow contract.
type SpareEscrowClosedIterator struct {
	Event *SpareEscrowClosed // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *SpareEscrowClosedIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(SpareEscrowClosed)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(SpareEscrowClosed)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *SpareEscrowClosedIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *SpareEscrowClosedIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// SpareEscrowClosed represents a Closed event raised by the SpareEscrow contract.
type SpareEscrowClosed struct {
	Id      [32]byte
	Settled *big.Int
	Refund  *big.Int
	Raw     types.Log // Blockchain specific contextual infos
}

// FilterClosed is a free log retrieval operation binding the contract event 0xae5dc4312c3d3381e38e7d66fc4d59f0a2678332c229c3e61ef1ad527aa34af1.
//
// Solidity: event Closed(bytes32 indexed id, uint256 settled, uint256 refund)
func (_SpareEscrow *SpareEscrowFilterer) FilterClosed(opts *bind.FilterOpts, id [][32]byte) (*SpareEscrowClosedIterator, error) {

	var idRule []interface{}
	for _, idItem := range id {
		idRule = append(idRule, idItem)
	}

	logs, sub, err := _SpareEscrow.contract.FilterLogs(opts, "Closed", idRule)
	if err != nil {
		return nil, err
	}
	return &SpareEscrowClosedIterator{contract: _SpareEscrow.contract, event: "Closed", logs: logs, sub: sub}, nil
}

// WatchClosed is a free log subscription operation binding the contract event 0xae5dc4312c3d3381e38e7d66fc4d59f0a2678332c229c3e61ef1ad527aa34af1.
//
// Solidity: event Closed(bytes32 indexed id, uint256 settled, uint256 refund)
func (_SpareEscrow *SpareEscrowFilterer) WatchClosed(opts *bind.WatchOpts, sink chan<- *SpareEscrowClosed, id [][32]byte) (event.Subscription, error) {

	var idRule []interface{}
	for _, idItem := range id {
		idRule = append(idRule, idItem)
	}

	logs, sub, err := _SpareEscrow.contract.WatchLogs(opts, "Closed", idRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(SpareEscrowClosed)
				if err := _SpareEscrow.contract.UnpackLog(event, "Closed", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseClosed is a log parse operation binding the contract event 0xae5dc4312c3d3381e38e7d66fc4d59f0a2678332c229c3e61ef1ad527aa34af1.
//
// Solidity: event Closed(bytes32 indexed id, uint256 settled, uint256 refund)
func (_SpareEscrow *SpareEscrowFilterer) ParseClosed(log types.Log) (*SpareEscrowClosed, error) {
	event := new(SpareEscrowClosed)
	if err := _SpareEscrow.contract.UnpackLog(event, "Closed", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// SpareEscrowOpenedIterator is returned from FilterOpened and is used to iterate over the raw logs and unpacked data for Opened events raised by the SpareEscrow contract.
type SpareEscrowOpenedIterator struct {
	Event *SpareEscrowOpened // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *SpareEscrowOpenedIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(SpareEscrowOpened)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(SpareEscrowOpened)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *SpareEscrowOpenedIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *SpareEscrowOpenedIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// SpareEscrowOpened represents a Opened event raised by the SpareEscrow contract.
type SpareEscrowOpened struct {
	Id       [32]byte
	Payer    common.Address
	Payee    common.Address
	Signer   common.Address
	Token    common.Address
	Deposit  *big.Int
	UnlockAt uint64
	Raw      types.Log // Blockchain specific contextual infos
}

// FilterOpened is a free log retrieval operation binding the contract event 0x9b4a615898fcc4595e26cbc88f8cd163b702b12a8895efabb66dc3cd128aaf8e.
//
// Solidity: event Opened(bytes32 indexed id, address indexed payer, address indexed payee, address signer, address token, uint256 deposit, uint64 unlockAt)
func (_SpareEscrow *SpareEscrowFilterer) FilterOpened(opts *bind.FilterOpts, id [][32]byte, payer []common.Address, payee []common.Address) (*SpareEscrowOpenedIterator, error) {

	var idRule []interface{}
	for _, idItem := range id {
		idRule = append(idRule, idItem)
	}
	var payerRule []interface{}
	for _, payerItem := range payer {
		payerRule = append(payerRule, payerItem)
	}
	var payeeRule []interface{}
	for _, payeeItem := range payee {
		payeeRule = append(payeeRule, payeeItem)
	}

	logs, sub, err := _SpareEscrow.contract.FilterLogs(opts, "Opened", idRule, payerRule, payeeRule)
	if err != nil {
		return nil, err
	}
	return &SpareEscrowOpenedIterator{contract: _SpareEscrow.contract, event: "Opened", logs: logs, sub: sub}, nil
}

// WatchOpened is a free log subscription operation binding the contract event 0x9b4a615898fcc4595e26cbc88f8cd163b702b12a8895efabb66dc3cd128aaf8e.
//
// Solidity: event Opened(bytes32 indexed id, address indexed payer, address indexed payee, address signer, address token, uint256 deposit, uint64 unlockAt)
func (_SpareEscrow *SpareEscrowFilterer) WatchOpened(opts *bind.WatchOpts, sink chan<- *SpareEscrowOpened, id [][32]byte, payer []common.Address, payee []common.Address) (event.Subscription, error) {

	var idRule []interface{}
	for _, idItem := range id {
		idRule = append(idRule, idItem)
	}
	var payerRule []interface{}
	for _, payerItem := range payer {
		payerRule = append(payerRule, payerItem)
	}
	var payeeRule []interface{}
	for _, payeeItem := range payee {
		payeeRule = append(payeeRule, payeeItem)
	}

	logs, sub, err := _SpareEscrow.contract.WatchLogs(opts, "Opened", idRule, payerRule, payeeRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(SpareEscrowOpened)
				if err := _SpareEscrow.contract.UnpackLog(event, "Opened", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseOpened is a log parse operation binding the contract event 0x9b4a615898fcc4595e26cbc88f8cd163b702b12a8895efabb66dc3cd128aaf8e.
//
// Solidity: event Opened(bytes32 indexed id, address indexed payer, address indexed payee, address signer, address token, uint256 deposit, uint64 unlockAt)
func (_SpareEscrow *SpareEscrowFilterer) ParseOpened(log types.Log) (*SpareEscrowOpened, error) {
	event := new(SpareEscrowOpened)
	if err := _SpareEscrow.contract.UnpackLog(event, "Opened", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// SpareEscrowSettledIterator is returned from FilterSettled and is used to iterate over the raw logs and unpacked data for Settled events raised by the SpareEscrow contract.
type SpareEscrowSettledIterator struct {
	Event *SpareEscrowSettled // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *SpareEscrowSettledIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(SpareEscrowSettled)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(SpareEscrowSettled)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *SpareEscrowSettledIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *SpareEscrowSettledIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// SpareEscrowSettled represents a Settled event raised by the SpareEscrow contract.
type SpareEscrowSettled struct {
	Id         [32]byte
	Cumulative *big.Int
	Amount     *big.Int
	Raw        types.Log // Blockchain specific contextual infos
}

// FilterSettled is a free log retrieval operation binding the contract event 0x2a20f8d2d0f487a3016d77037b3c5768216a3dc76401d33abf5dc381af7171cb.
//
// Solidity: event Settled(bytes32 indexed id, uint256 cumulative, uint256 amount)
func (_SpareEscrow *SpareEscrowFilterer) FilterSettled(opts *bind.FilterOpts, id [][32]byte) (*SpareEscrowSettledIterator, error) {

	var idRule []interface{}
	for _, idItem := range id {
		idRule = append(idRule, idItem)
	}

	logs, sub, err := _SpareEscrow.contract.FilterLogs(opts, "Settled", idRule)
	if err != nil {
		return nil, err
	}
	return &SpareEscrowSettledIterator{contract: _SpareEscrow.contract, event: "Settled", logs: logs, sub: sub}, nil
}

// WatchSettled is a free log subscription operation binding the contract event 0x2a20f8d2d0f487a3016d77037b3c5768216a3dc76401d33abf5dc381af7171cb.
//
// Solidity: event Settled(bytes32 indexed id, uint256 cumulative, uint256 amount)
func (_SpareEscrow *SpareEscrowFilterer) WatchSettled(opts *bind.WatchOpts, sink chan<- *SpareEscrowSettled, id [][32]byte) (event.Subscription, error) {

	var idRule []interface{}
	for _, idItem := range id {
		idRule = append(idRule, idItem)
	}

	logs, sub, err := _SpareEscrow.contract.WatchLogs(opts, "Settled", idRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(SpareEscrowSettled)
				if err := _SpareEscrow.contract.UnpackLog(event, "Settled", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseSettled is a log parse operation binding the contract event 0x2a20f8d2d0f487a3016d77037b3c5768216a3dc76401d33abf5dc381af7171cb.
//
// Solidity: event Settled(bytes32 indexed id, uint256 cumulative, uint256 amount)
func (_SpareEscrow *SpareEscrowFilterer) ParseSettled(log types.Log) (*SpareEscrowSettled, error) {
	event := new(SpareEscrowSettled)
	if err := _SpareEscrow.contract.UnpackLog(event, "Settled", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// SpareEscrowToppedUpIterator is returned from FilterToppedUp and is used to iterate over the raw logs and unpacked data for ToppedUp events raised by the SpareEscrow contract.
type SpareEscrowToppedUpIterator struct {
	Event *SpareEscrowToppedUp // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *SpareEscrowToppedUpIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(SpareEscrowToppedUp)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(SpareEscrowToppedUp)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *SpareEscrowToppedUpIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *SpareEscrowToppedUpIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// SpareEscrowToppedUp represents a ToppedUp event raised by the SpareEscrow contract.
type SpareEscrowToppedUp struct {
	Id       [32]byte
	Amount   *big.Int
	Deposit  *big.Int
	UnlockAt uint64
	Raw      types.Log // Blockchain specific contextual infos
}

// FilterToppedUp is a free log retrieval operation binding the contract event 0x588c573baf66564efa8eff322b51fe25b38febdc230a79e5d079ca6de1790e1a.
//
// Solidity: event ToppedUp(bytes32 indexed id, uint256 amount, uint256 deposit, uint64 unlockAt)
func (_SpareEscrow *SpareEscrowFilterer) FilterToppedUp(opts *bind.FilterOpts, id [][32]byte) (*SpareEscrowToppedUpIterator, error) {

	var idRule []interface{}
	for _, idItem := range id {
		idRule = append(idRule, idItem)
	}

	logs, sub, err := _SpareEscrow.contract.FilterLogs(opts, "ToppedUp", idRule)
	if err != nil {
		return nil, err
	}
	return &SpareEscrowToppedUpIterator{contract: _SpareEscrow.contract, event: "ToppedUp", logs: logs, sub: sub}, nil
}

// WatchToppedUp is a free log subscription operation binding the contract event 0x588c573baf66564efa8eff322b51fe25b38febdc230a79e5d079ca6de1790e1a.
//
// Solidity: event ToppedUp(bytes32 indexed id, uint256 amount, uint256 deposit, uint64 unlockAt)
func (_SpareEscrow *SpareEscrowFilterer) WatchToppedUp(opts *bind.WatchOpts, sink chan<- *SpareEscrowToppedUp, id [][32]byte) (event.Subscription, error) {

	var idRule []interface{}
	for _, idItem := range id {
		idRule = append(idRule, idItem)
	}

	logs, sub, err := _SpareEscrow.contract.WatchLogs(opts, "ToppedUp", idRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(SpareEscrowToppedUp)
				if err := _SpareEscrow.contract.UnpackLog(event, "ToppedUp", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseToppedUp is a log parse operation binding the contract event 0x588c573baf66564efa8eff322b51fe25b38febdc230a79e5d079ca6de1790e1a.
//
// Solidity: event ToppedUp(bytes32 indexed id, uint256 amount, uint256 deposit, uint64 unlockAt)
func (_SpareEscrow *SpareEscrowFilterer) ParseToppedUp(log types.Log) (*SpareEscrowToppedUp, error) {
	event := new(SpareEscrowToppedUp)
	if err := _SpareEscrow.contract.UnpackLog(event, "ToppedUp", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}
