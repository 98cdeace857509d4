package evm

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/sparegpu/spare/wallet/contracts"
)

// voucherTypeHash is the escrow's VOUCHER_TYPEHASH.
var voucherTypeHash = crypto.Keccak256Hash([]byte("Voucher(bytes32 channelId,uint256 cumulative)"))

// ErrUnreachable reports that no RPC URL of a preset answered.
var ErrUnreachable = errors.New("no JSON-RPC node answered")

// Dial connects to the first of n's RPC URLs that answers and checks the
// chain against the preset (Check). It never falls back to anything else:
// a mismatch is an error naming the field.
func Dial(ctx context.Context, n Network) (*ethclient.Client, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	var errs []error
	for _, u := range n.RPC {
		c, err := ethclient.DialContext(ctx, u)
		if err == nil {
			_, err = c.ChainID(ctx)
			if err != nil {
				c.Close()
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", redactURL(u), scrub(err, u)))
			continue
		}
		if err := Check(ctx, c, n); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
	return nil, fmt.Errorf("network %q: %w (is the node running? check %s in %s): %w",
		n.Name, ErrUnreachable, FieldRPC, NetworksFile, errors.Join(errs...))
}

// checkClient is what Check reads of a node.
type checkClient interface {
	bind.ContractBackend
	ChainID(ctx context.Context) (*big.Int, error)
}

// Check compares the node's chain with the preset: the chain ID, contract
// code at both addresses, the escrow's voucher type (a SpareEscrow), and
// the token's decimals. Each mismatch names its field.
func Check(ctx context.Context, c checkClient, n Network) error {
	bad := func(field, format string, a ...any) error {
		return &FieldError{Network: n.Name, Field: field, Msg: fmt.Sprintf(format, a...)}
	}
	id, err := c.ChainID(ctx)
	if err != nil {
		return fmt.Errorf("network %q: reading the chain ID: %w", n.Name, err)
	}
	if !id.IsUint64() || id.Uint64() != n.ChainID {
		return bad(FieldChainID, "the node's chain is %s, the preset says %d: the RPC URL points at another chain, or the preset is wrong", id, n.ChainID)
	}
	for _, a := range []struct {
		field string
		addr  common.Address
	}{{FieldEscrow, n.Escrow}, {FieldToken, n.Token}} {
		code, err := c.CodeAt(ctx, a.addr, nil)
		if err != nil {
			return fmt.Errorf("network %q: reading the code at %s: %w", n.Name, a.addr.Hex(), err)
		}
		if len(code) == 0 {
			return bad(a.field, "no contract at %s on chain %d: deploy with `spare chain deploy` or correct the address", a.addr.Hex(), n.ChainID)
		}
	}
	esc, err := contracts.NewSpareEscrowCaller(n.Escrow, c)
	if err != nil {
		return err
	}
	opts := &bind.CallOpts{Context: ctx}
	th, err := esc.VOUCHERTYPEHASH(opts)
	if err != nil || common.Hash(th) != voucherTypeHash {
		return bad(FieldEscrow, "the contract at %s is not a Spare escrow (its voucher type does not match)", n.Escrow.Hex())
	}
	tok, err := contracts.NewTestTokenCaller(n.Token, c)
	if err != nil {
		return err
	}
	dec, err := tok.Decimals(opts)
	if err != nil {
		return bad(FieldToken, "the contract at %s does not answer decimals(): is it an ERC-20?", n.Token.Hex())
	}
	if dec != n.Decimals {
		return bad(FieldDecimals, "the token at %s has %d decimals, the preset says %d", n.Token.Hex(), dec, n.Decimals)
	}
	return nil
}
