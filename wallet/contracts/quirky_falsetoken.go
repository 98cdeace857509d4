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

// FalseTokenMetaData contains all meta data concerning the FalseToken contract.
var FalseTokenMetaData = &bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"name\":\"approve\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"pure\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"name\":\"balanceOf\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"name\":\"transfer\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"pure\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"name\":\"transferFrom\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"pure\",\"type\":\"function\"}]",
	Bin: "0x6080604052348015600e575f5ffd5b506101a48061001c5f395ff3fe608060405234801561000f575f5ffd5b506004361061004a575f3560e01c8063095ea7b31461004e57806323b872dd1461007957806370a082311461008f578063a9059cbb146100bc575b5f5ffd5b61006461005c3660046100ec565b600192915050565b60405190151581526020015b60405180910390f35b610064610087366004610114565b5f9392505050565b6100ae61009d36600461014e565b5f6020819052908152604090205481565b604051908152602001610070565b6100646100ca3660046100ec565b5f92915050565b80356001600160a01b03811681146100e7575f5ffd5b919050565b5f5f604083850312156100fd575f5ffd5b610106836100d1565b946020939093013593505050565b5f5f5f60608486031215610126575f5ffd5b61012f846100d1565b925061013d602085016100d1565b929592945050506040919091013590565b5f6020828403121561015e575f5ffd5b610167826100d1565b939250505056fea2646970667358221220fa39ec03c06fb4a8bb11c68375b364e334d1b661a27d24bc8eb3a044b30b82d764736f6c634300081c0033",
}

// FalseTokenABI is the input ABI used to generate the binding from.
// Deprecated: Use FalseTokenMetaData.ABI instead.
var FalseTokenABI = FalseTokenMetaData.ABI

// FalseTokenBin is the compiled bytecode used for deploying new contracts.
// Deprecated: Use FalseTokenMetaData.Bin instead.
var FalseTokenBin = FalseTokenMetaData.Bin

// DeployFalseToken deploys a new Ethereum contract, binding an instance of FalseToken to it.
func DeployFalseToken(auth *bind.TransactOpts, backend bind.ContractBackend) (common.Address, *types.Transaction, *FalseToken, error) {
	parsed, err := FalseTokenMetaData.GetAbi()
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	if parsed == nil {
		return common.Address{}, nil, nil, errors.New("GetABI returned nil")
	}

	address, tx, contract, err := bind.DeployContract(auth, *parsed, common.FromHex(FalseTokenBin), backend)
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	return address, tx, &FalseToken{FalseTokenCaller: FalseTokenCaller{contract: contract}, FalseTokenTransactor: FalseTokenTransactor{contract: contract}, FalseTokenFilterer: FalseTokenFilterer{contract: contract}}, nil
}

// FalseToken is an auto generated Go binding around an Ethereum contract.
type FalseToken struct {
	FalseTokenCaller     // Read-only binding to the contract
	FalseTokenTransactor // Write-only binding to the contract
	FalseTokenFilterer   // Log filterer for contract events
}

// FalseTokenCaller is an auto generated read-only Go binding around an Ethereum contract.
type FalseTokenCaller struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// FalseTokenTransactor is an auto generated write-only Go binding around an Ethereum contract.
type FalseTokenTransactor struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// FalseTokenFilterer is an auto generated log filtering Go binding around an Ethereum contract events.
type FalseTokenFilterer struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// FalseTokenSession is an auto generated Go binding around an Ethereum contract,
// with pre-set call and transact options.
type FalseTokenSession struct {
	Contract     *FalseToken       // Generic contract binding to set the session for
	CallOpts     bind.CallOpts     // Call options to use throughout this session
	TransactOpts bind.TransactOpts // Transaction auth options to use throughout this session
}

// FalseTokenCallerSession is an auto generated read-only Go binding around an Ethereum contract,
// with pre-set call options.
type FalseTokenCallerSession struct {
	Contract *FalseTokenCaller // Generic contract caller binding to set the session for
	CallOpts bind.CallOpts     // Call options to use throughout this session
}

// FalseTokenTransactorSession is an auto generated write-only Go binding around an Ethereum contract,
// with pre-set transact options.
type FalseTokenTransactorSession struct {
	Contract     *FalseTokenTransactor // Generic contract transactor binding to set the session for
	TransactOpts bind.TransactOpts     // Transaction auth options to use throughout this session
}

// FalseTokenRaw is an auto generated low-level Go binding around an Ethereum contract.
type FalseTokenRaw struct {
	Contract *FalseToken // Generic contract binding to access the raw methods on
}

// FalseTokenCallerRaw is an auto generated low-level read-only Go binding around an Ethereum contract.
type FalseTokenCallerRaw struct {
	Contract *FalseTokenCaller // Generic read-only contract binding to access the raw methods on
}

// FalseTokenTransactorRaw is an auto generated low-level write-only Go binding around an Ethereum contract.
type FalseTokenTransactorRaw struct {
	Contract *FalseTokenTransactor // Generic write-only contract binding to access the raw methods on
}

// NewFalseToken creates a new instance of FalseToken, bound to a specific deployed contract.
func NewFalseToken(address common.Address, backend bind.ContractBackend) (*FalseToken, error) {
	contract, err := bindFalseToken(address, backend, backend, backend)
	if err != nil {
		return nil, err
	}
	return &FalseToken{FalseTokenCaller: FalseTokenCaller{contract: contract}, FalseTokenTransactor: FalseTokenTransactor{contract: contract}, FalseTokenFilterer: FalseTokenFilterer{contract: contract}}, nil
}

// NewFalseTokenCaller creates a new read-only instance of FalseToken, bound to a specific deployed contract.
func NewFalseTokenCaller(address common.Address, caller bind.ContractCaller) (*FalseTokenCaller, error) {
	contract, err := bindFalseToken(address, caller, nil, nil)
	if err != nil {
		return nil, err
	}
	return &FalseTokenCaller{contract: contract}, nil
}

// NewFalseTokenTransactor creates a new write-only instance of FalseToken, bound to a specific deployed contract.
func NewFalseTokenTransactor(address common.Address, transactor bind.ContractTransactor) (*FalseTokenTransactor, error) {
	contract, err := bindFalseToken(address, nil, transactor, nil)
	if err != nil {
		return nil, err
	}
	return &FalseTokenTransactor{contract: contract}, nil
}

// NewFalseTokenFilterer creates a new log filterer instance of FalseToken, bound to a specific deployed contract.
func NewFalseTokenFilterer(address common.Address, filterer bind.ContractFilterer) (*FalseTokenFilterer, error) {
	contract, err := bindFalseToken(address, nil, nil, filterer)
	if err != nil {
		return nil, err
	}
	return &FalseTokenFilterer{contract: contract}, nil
}

// bindFalseToken binds a generic wrapper to an already deployed contract.
func bindFalseToken(address common.Address, caller bind.ContractCaller, transactor bind.ContractTransactor, filterer bind.ContractFilterer) (*bind.BoundContract, error) {
	parsed, err := FalseTokenMetaData.GetAbi()
	if err != nil {
		return nil, err
	}
	return bind.NewBoundContract(address, *parsed, caller, transactor, filterer), nil
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_FalseToken *FalseTokenRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _FalseToken.Contract.FalseTokenCaller.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_FalseToken *FalseTokenRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _FalseToken.Contract.FalseTokenTransactor.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_FalseToken *FalseTokenRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _FalseToken.Contract.FalseTokenTransactor.contract.Transact(opts, method, params...)
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_FalseToken *FalseTokenCallerRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _FalseToken.Contract.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_FalseToken *FalseTokenTransactorRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _FalseToken.Contract.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_FalseToken *FalseTokenTransactorRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _FalseToken.Contract.contract.Transact(opts, method, params...)
}

// Approve is a free data retrieval call binding the contract method 0x095ea7b3.
//
// Solidity: function approve(address , uint256 ) pure returns(bool)
func (_FalseToken *FalseTokenCaller) Approve(opts *bind.CallOpts, arg0 common.Address, arg1 *big.Int) (bool, error) {
	var out []interface{}
	err := _FalseToken.contract.Call(opts, &out, "approve", arg0, arg1)

	if err != nil {
		return *new(bool), err
	}

	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)

	return out0, err

}

// Approve is a free data retrieval call binding the contract method 0x095ea7b3.
//
// Solidity: function approve(address , uint256 ) pure returns(bool)
func (_FalseToken *FalseTokenSession) Approve(arg0 common.Address, arg1 *big.Int) (bool, error) {
	return _FalseToken.Contract.Approve(&_FalseToken.CallOpts, arg0, arg1)
}

// Approve is a free data retrieval call binding the contract method 0x095ea7b3.
//
// Solidity: function approve(address , uint256 ) pure returns(bool)
func (_FalseToken *FalseTokenCallerSession) Approve(arg0 common.Address, arg1 *big.Int) (bool, error) {
	return _FalseToken.Contract.Approve(&_FalseToken.CallOpts, arg0, arg1)
}

// BalanceOf is a free data retrieval call binding the contract method 0x70a08231.
//
// Solidity: function balanceOf(address ) view returns(uint256)
func (_FalseToken *FalseTokenCaller) BalanceOf(opts *bind.CallOpts, arg0 common.Address) (*big.Int, error) {
	var out []interface{}
	err := _FalseToken.contract.Call(opts, &out, "balanceOf", arg0)

	if err != nil {
		return *new(*big.Int), err
	}

	out0 := *abi.ConvertType(out[0], new(*big.Int)).(**big.Int)

	return out0, err

}

// BalanceOf is a free data retrieval call binding the contract method 0x70a08231.
//
// Solidity: function balanceOf(address ) view returns(uint256)
func (_FalseToken *FalseTokenSession) BalanceOf(arg0 common.Address) (*big.Int, error) {
	return _FalseToken.Contract.BalanceOf(&_FalseToken.CallOpts, arg0)
}

// BalanceOf is a free data retrieval call binding the contract method 0x70a08231.
//
// Solidity: function balanceOf(address ) view returns(uint256)
func (_FalseToken *FalseTokenCallerSession) BalanceOf(arg0 common.Address) (*big.Int, error) {
	return _FalseToken.Contract.BalanceOf(&_FalseToken.CallOpts, arg0)
}

// Transfer is a free data retrieval call binding the contract method 0xa9059cbb.
//
// Solidity: function transfer(address , uint256 ) pure returns(bool)
func (_FalseToken *FalseTokenCaller) Transfer(opts *bind.CallOpts, arg0 common.Address, arg1 *big.Int) (bool, error) {
	var out []interface{}
	err := _FalseToken.contract.Call(opts, &out, "transfer", arg0, arg1)

	if err != nil {
		return *new(bool), err
	}

	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)

	return out0, err

}

// Transfer is a free data retrieval call binding the contract method 0xa9059cbb.
//
// Solidity: function transfer(address , uint256 ) pure returns(bool)
func (_FalseToken *FalseTokenSession) Transfer(arg0 common.Address, arg1 *big.Int) (bool, error) {
	return _FalseToken.Contract.Transfer(&_FalseToken.CallOpts, arg0, arg1)
}

// Transfer is a free data retrieval call binding the contract method 0xa9059cbb.
//
// Solidity: function transfer(address , uint256 ) pure returns(bool)
func (_FalseToken *FalseTokenCallerSession) Transfer(arg0 common.Address, arg1 *big.Int) (bool, error) {
	return _FalseToken.Contract.Transfer(&_FalseToken.CallOpts, arg0, arg1)
}

// TransferFrom is a free data retrieval call binding the contract method 0x23b872dd.
//
// Solidity: function transferFrom(address , address , uint256 ) pure returns(bool)
func (_FalseToken *FalseTokenCaller) TransferFrom(opts *bind.CallOpts, arg0 common.Address, arg1 common.Address, arg2 *big.Int) (bool, error) {
	var out []interface{}
	err := _FalseToken.contract.Call(opts, &out, "transferFrom", arg0, arg1, arg2)

	if err != nil {
		return *new(bool), err
	}

	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)

	return out0, err

}

// TransferFrom is a free data retrieval call binding the contract method 0x23b872dd.
//
// Solidity: function transferFrom(address , address , uint256 ) pure returns(bool)
func (_FalseToken *FalseTokenSession) TransferFrom(arg0 common.Address, arg1 common.Address, arg2 *big.Int) (bool, error) {
	return _FalseToken.Contract.TransferFrom(&_FalseToken.CallOpts, arg0, arg1, arg2)
}

// TransferFrom is a free data retrieval call binding the contract method 0x23b872dd.
//
// Solidity: function transferFrom(address , address , uint256 ) pure returns(bool)
func (_FalseToken *FalseTokenCallerSession) TransferFrom(arg0 common.Address, arg1 common.Address, arg2 *big.Int) (bool, error) {
	return _FalseToken.Contract.TransferFrom(&_FalseToken.CallOpts, arg0, arg1, arg2)
}
