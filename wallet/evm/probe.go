package evm

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
)

// SettleGas bounds the gas one settlement uses (TestGasUsed measures it).
const SettleGas = 120_000

// GasReserve is how many settlements' gas a provider should hold.
const GasReserve = 10

// Probe answers `spare doctor`'s questions about a network for one
// wallet: is the RPC reachable, is it the preset's chain, are the
// contracts there, and can the wallet pay for settlements. Close it after.
type Probe struct {
	Net    Network
	Wallet common.Address
	c      *ethclient.Client
}

// Close closes the connection, if one was made.
func (p *Probe) Close() {
	if p.c != nil {
		p.c.Close()
	}
}

func (p *Probe) client(ctx context.Context) (*ethclient.Client, error) {
	if p.c != nil {
		return p.c, nil
	}
	var errs []error
	for _, u := range p.Net.RPC {
		c, err := ethclient.DialContext(ctx, u)
		if err == nil {
			if _, err = c.ChainID(ctx); err == nil {
				p.c = c
				return c, nil
			}
			c.Close()
		}
		errs = append(errs, fmt.Errorf("%s: %w", redactURL(u), scrub(err, u)))
	}
	return nil, fmt.Errorf("%w: %w", ErrUnreachable, errors.Join(errs...))
}

// Reachable reports whether one of the preset's RPC URLs answers.
func (p *Probe) Reachable(ctx context.Context) error {
	_, err := p.client(ctx)
	return err
}

// ChainID compares the node's chain ID with the preset's.
func (p *Probe) ChainID(ctx context.Context) error {
	c, err := p.client(ctx)
	if err != nil {
		return err
	}
	id, err := c.ChainID(ctx)
	if err != nil {
		return err
	}
	if !id.IsUint64() || id.Uint64() != p.Net.ChainID {
		return &FieldError{p.Net.Name, FieldChainID, fmt.Sprintf("the node's chain is %s, the preset says %d", id, p.Net.ChainID)}
	}
	return nil
}

// Contracts checks the escrow and token against the preset (Check).
func (p *Probe) Contracts(ctx context.Context) error {
	c, err := p.client(ctx)
	if err != nil {
		return err
	}
	return Check(ctx, c, p.Net)
}

// Gas says how many settlements the wallet's native balance pays for at
// today's gas price, and how much more would make GasReserve of them.
func (p *Probe) Gas(ctx context.Context) (settlements uint64, short *big.Int, err error) {
	c, err := p.client(ctx)
	if err != nil {
		return 0, nil, err
	}
	have, err := c.BalanceAt(ctx, p.Wallet, nil)
	if err != nil {
		return 0, nil, err
	}
	price, err := c.SuggestGasPrice(ctx)
	if err != nil {
		return 0, nil, err
	}
	per := new(big.Int).Mul(price, big.NewInt(SettleGas))
	if per.Sign() == 0 {
		return GasReserve, new(big.Int), nil
	}
	n := new(big.Int).Quo(have, per)
	want := new(big.Int).Mul(per, big.NewInt(GasReserve))
	short = new(big.Int).Sub(want, have)
	if short.Sign() < 0 {
		short.SetInt64(0)
	}
	if !n.IsUint64() {
		return ^uint64(0), short, nil
	}
	return n.Uint64(), short, nil
}
