package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/wallet"
)

func walletRecordsCmd(g *globals, wf *walletFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "records",
		Short: "Print the signed agreements, receipts and vouchers behind the wallet's figures",
		Long: `Print every signed agreement, usage receipt and voucher in the ledger
(DATA/spare.db): the records behind the wallet's figures, for you, an
accountant or a court.

With --json, one record a line in the shape EIP-712 tools take
(eth_signTypedData_v4): "domain" (name, version, chainId, verifyingContract:
the domain it was signed under; the embedded ledger backend's is chain 0
and the zero contract), "types", "primaryType", "message" (uint values as
decimal strings), "digest", and "signatures", each with the role its
signer plays and the address it recovers to. Any EIP-712 implementation
can recompute the digest and recover the signers; ethers, for one:
verifyTypedData(r.domain, r.types, r.message, s.signature).

Amounts in messages are in the token's smallest unit (one millionth of a
` + wallet.Unit + `).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := openWallet(cmd, g, wf)
			if err != nil {
				return err
			}
			defer w.Close()
			out := cmd.OutOrStdout()
			if g.json {
				enc := json.NewEncoder(out)
				return w.Ledger.Records(cmd.Context(), func(r wallet.ExportRecord) error { return enc.Encode(r) })
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "RECORDED\tKIND\tDOMAIN\tDIGEST\tAMOUNT\tSIGNED BY")
			n := 0
			err = w.Ledger.Records(cmd.Context(), func(r wallet.ExportRecord) error {
				n++
				_, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.RecordedAt.Format(time.DateTime), r.Kind, recordDomain(r.Domain),
					short(r.Digest.Hex()), recordAmount(r), recordSigners(r.Signatures))
				return err
			})
			if err != nil {
				return err
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(out, "%d records; --json prints each with its domain, typed values and signatures\n", n)
			return nil
		},
	}
}

// short keeps the ends of a long hex string.
func short(h string) string {
	if len(h) <= 14 {
		return h
	}
	return h[:8] + "…" + h[len(h)-4:]
}

func recordDomain(d wallet.ExportDomain) string {
	if d.ChainID == "0" && d.VerifyingContract == (common.Address{}) {
		return "ledger (chain 0)"
	}
	return "chain " + d.ChainID + " " + short(d.VerifyingContract.Hex())
}

// recordAmount is what a receipt or voucher adds up to, in the unit.
func recordAmount(r wallet.ExportRecord) string {
	s, ok := r.Message["cumulative"].(string)
	if !ok {
		return "-"
	}
	a, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return s
	}
	return wallet.Amount(a).String() + " " + wallet.Unit
}

func recordSigners(sigs []wallet.ExportSignature) string {
	var parts []string
	for _, s := range sigs {
		who := short(s.Signer.Hex())
		if s.Error != "" {
			who = "invalid (" + s.Error + ")"
		}
		parts = append(parts, s.Role+" "+who)
	}
	return strings.Join(parts, ", ")
}
