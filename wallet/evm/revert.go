package evm

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/contracts"
)

// ContractError is the escrow refusing a call, decoded from its revert
// data: the error's name, its arguments, and a sentence for a person.
type ContractError struct {
	Name     string // e.g. "GracePeriod"
	Args     []any
	Sentence string
	Kind     error // the wallet error of the same meaning, when there is one
}

func (e *ContractError) Error() string { return e.Sentence }

// Unwrap gives the wallet error the contract's error means.
func (e *ContractError) Unwrap() error { return e.Kind }

// escrowErrors say what each of the escrow's errors means and what to do.
var escrowErrors = map[string]struct {
	sentence string
	kind     error
}{
	"UnknownChannel": {"the escrow has no such channel: check the channel ID and the network", wallet.ErrNotFound},
	"ChannelExists":  {"a channel with this ID exists already: try again (a new salt is drawn)", nil},
	"ChannelClosed":  {"the channel is closed", wallet.ErrChannelClosed},
	"NotPayee":       {"only the channel's payee may do this", wallet.ErrNotPayee},
	"NotPayer":       {"only the channel's payer may do this", wallet.ErrNotPayer},
	"ZeroAmount":     {"the amount must be more than 0", wallet.ErrAmount},
	"BadSignature":   {"the voucher's signature is not the channel signer's", nil},
	"HighS":          {"the voucher's signature is malleable (high s)", nil},
	"NotIncreasing":  {"the voucher is not above what is settled already", wallet.ErrReplay},
	"AboveDeposit":   {"the voucher is above the channel's deposit", wallet.ErrAmount},
	"NoCloseRequest": {"no close was requested: withdraw once to request it, then again after the grace period", wallet.ErrNoCloseReq},
	"TransferFailed": {"the token refused the transfer: check the balance and allowance", nil},
	"LockTooLong":    {"the deposit's lock ends too far ahead: the escrow locks for at most 31 days", wallet.ErrAmount},
	"Reentered":      {"the token called back into the escrow during a transfer: use the network's token", nil},
}

// decodeRevert turns a call's revert data into a ContractError; other
// errors come back unchanged.
func decodeRevert(err error) error {
	var de interface{ ErrorData() any }
	if !errors.As(err, &de) {
		return err
	}
	s, ok := de.ErrorData().(string)
	if !ok {
		return err
	}
	data, derr := hexutil.Decode(s)
	if derr != nil || len(data) < 4 {
		return err
	}
	a, aerr := contracts.SpareEscrowMetaData.GetAbi()
	if aerr != nil {
		return err
	}
	for name, e := range a.Errors {
		if !strings.EqualFold(common.Bytes2Hex(e.ID[:4]), common.Bytes2Hex(data[:4])) {
			continue
		}
		args, _ := e.Inputs.Unpack(data[4:])
		ce := &ContractError{Name: name, Args: args}
		if m, ok := escrowErrors[name]; ok {
			ce.Sentence, ce.Kind = m.sentence, m.kind
		}
		if name == "GracePeriod" && len(args) == 1 {
			if ends, ok := args[0].(*big.Int); ok && ends.IsInt64() {
				t := time.Unix(ends.Int64(), 0).UTC()
				ce.Sentence = fmt.Sprintf("the payee's grace period runs until %s: withdraw after that", t.Format(time.RFC3339))
				ce.Kind = wallet.ErrGracePeriod
			}
		}
		if ce.Sentence == "" {
			ce.Sentence = "the escrow refused: " + name
		}
		return ce
	}
	return err
}

// Transfer sends amount of the network's token from this wallet to to
// (a provider paying out what was settled to it). The ledger records the
// payout: the transfer may not exceed what is settled and not paid out,
// and is held back from it while sent, before anything is sent; mined,
// it is a payout with its gas.
func (b *Backend) Transfer(ctx context.Context, to common.Address, amount wallet.Amount) (wallet.ChainTx, error) {
	if amount <= 0 {
		return wallet.ChainTx{}, fmt.Errorf("amount: %w: must be positive", wallet.ErrAmount)
	}
	rc, err := b.send(ctx, "transfer", txFor{amount: amount, payout: to.Hex()}, func(o *bind.TransactOpts) (*types.Transaction, error) {
		return b.token.Transfer(o, to, amount.Big())
	})
	if err != nil {
		return wallet.ChainTx{}, err
	}
	return wallet.ChainTx{Hash: rc.TxHash, GasUsed: rc.GasUsed, GasPrice: gasPrice(rc)}, nil
}

// TokenBalance is what address a holds of the network's token.
func (b *Backend) TokenBalance(ctx context.Context, a common.Address) (wallet.Amount, error) {
	v, err := b.token.BalanceOf(&bind.CallOpts{Context: ctx}, a)
	if err != nil {
		return 0, err
	}
	return wallet.AmountFromBig(v)
}
