package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/wallet"
	"github.com/sparegpu/spare/wallet/evm"
)

// walletKeystore tunes key encryption; tests lighten it.
var walletKeystore wallet.KeystoreOptions

type walletFlags struct {
	passphraseFile string
	chain          chainFlags
}

func newWalletCmd(g *globals) *cobra.Command {
	wf := &walletFlags{}
	cmd := &cobra.Command{
		Use:   "wallet",
		Short: "Show and manage the wallet: address, balance, history, deposits, keys",
		Long: `The wallet holds the key Spare is paid to and pays with, and the ledger of
every agreement, receipt and voucher (DATA/spare.db).

The key is a standard Ethereum keystore v3 file in DATA/wallet/keystore.
Without --passphrase-file, the wallet is locked with a generated passphrase
kept in DATA/wallet/passphrase (readable by the owner only): anyone who can
read that file can spend from the wallet. A desktop user should choose a
passphrase instead and pass it with --passphrase-file.

Amounts are in ` + wallet.Unit + ` with up to six decimals ("1.50"). The embedded
ledger backend records deposits and settlements as IOUs between nodes that
trust each other; it moves no money on any chain.

balance, deposit and withdraw settle on the chain --network (or --rpc)
names; without either, on the network chosen in Settings (the app's
Settings page, DATA/settings.json), else in the embedded ledger.
--network ledger is the embedded ledger whatever Settings say.`,
	}
	cmd.PersistentFlags().StringVar(&wf.passphraseFile, "passphrase-file", "", "file holding the wallet passphrase (\"-\" reads one line from stdin); default: the generated DATA/wallet/passphrase")
	wf.chain.register(cmd.PersistentFlags())
	cmd.AddCommand(
		walletAddressCmd(g, wf), walletBalanceCmd(g, wf), walletHistoryCmd(g, wf),
		walletDepositCmd(g, wf), walletWithdrawCmd(g, wf), walletExportCmd(g, wf), walletImportCmd(g, wf),
		walletRecordsCmd(g, wf),
	)
	return cmd
}

func readPassphrase(path string, stdin io.Reader) (string, error) {
	if path == "" {
		return "", nil
	}
	if path == "-" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading passphrase from stdin: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading passphrase file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// resolveChain chooses the network of a wallet verb that may settle on a
// chain (balance, deposit, withdraw): a flag, else the one chosen in
// Settings.
func (wf *walletFlags) resolveChain(g *globals) error {
	dir, err := g.resolveDataDir()
	if err != nil {
		return err
	}
	return wf.chain.resolve(dir)
}

func openWallet(cmd *cobra.Command, g *globals, wf *walletFlags) (*wallet.Wallet, error) {
	dir, err := g.resolveDataDir()
	if err != nil {
		return nil, err
	}
	pw, err := readPassphrase(wf.passphraseFile, cmd.InOrStdin())
	if err != nil {
		return nil, usageError{err}
	}
	if wf.chain.onChain() {
		if _, err := wf.chain.choose(dir); err != nil {
			return nil, err
		}
	}
	return wallet.Open(wallet.Options{DataDir: dir, Passphrase: pw, Keystore: walletKeystore, Log: g.log})
}

func printJSON(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

func walletAddressCmd(g *globals, wf *walletFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "address",
		Short: "Print the wallet's address (creating the key on first use)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := openWallet(cmd, g, wf)
			if err != nil {
				return err
			}
			defer w.Close()
			a, err := w.Address()
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), map[string]string{"address": a.Hex()})
			}
			fmt.Fprintln(cmd.OutOrStdout(), a.Hex())
			return nil
		},
	}
}

// balanceJSON is `spare wallet balance --json`; field names are a contract.
type balanceJSON struct {
	Address   string `json:"address"`
	Unit      string `json:"unit"`
	Earned    string `json:"earned"`
	Settled   string `json:"settled"`
	PaidOut   string `json:"paid_out"`
	Pending   string `json:"pending"`
	Lost      string `json:"lost"` // unsettled on channels the payer closed
	Spent     string `json:"spent"`
	Deposited string `json:"deposited"`
	Refunded  string `json:"refunded"`
	// Gas the recorded on-chain transactions (settlements, payouts,
	// deposits, close requests, withdrawals, reverted ones) used,
	// and its cost in wei: decimal integers, as strings like every value
	// here.
	GasTxs  string `json:"gas_txs"`
	GasUsed string `json:"gas_used"`
	GasWei  string `json:"gas_wei"`
	// With --network and a preset that gives token_per_native: the gas
	// in the token, and settled minus it.
	GasToken string `json:"gas_token,omitempty"`
	Net      string `json:"net,omitempty"`
	// With --network: the network and what the wallet holds of its token.
	Network string `json:"network,omitempty"`
	OnChain string `json:"on_chain,omitempty"`
	// Waiting: settlements sent and not mined, and why (their fee is held
	// at the cap on what a settlement may spend on gas).
	Waiting []waitingJSON `json:"waiting,omitempty"`
}

type waitingJSON struct {
	Channel string `json:"channel"`
	Amount  string `json:"amount"`
	Why     string `json:"why"`
}

func walletBalanceCmd(g *globals, wf *walletFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "balance",
		Short: "Print earned (signed vouchers), settled, paid out, pending, lost (unsettled on closed channels), spent, deposited and gas spent",
		Long: "Print earned (signed vouchers), settled, paid out, pending, lost (unsettled on closed channels), spent, deposited, " +
			"and the gas the wallet's recorded transactions used (in wei). With --network on a preset that sets token_per_native, " +
			"also the gas in the token and the net: settled minus gas.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := wf.resolveChain(g); err != nil {
				return err
			}
			w, err := openWallet(cmd, g, wf)
			if err != nil {
				return err
			}
			defer w.Close()
			b, err := w.Balance(cmd.Context())
			if err != nil {
				return err
			}
			j := balanceJSON{Address: b.Address.Hex(), Unit: wallet.Unit, Earned: b.Earned.String(), Settled: b.Settled.String(),
				PaidOut: b.PaidOut.String(), Pending: b.Pending.String(), Lost: b.Lost.String(), Spent: b.Spent.String(), Deposited: b.Deposited.String(),
				Refunded: b.Refunded.String()}
			gas, err := w.Ledger.GasSpent(cmd.Context())
			if err != nil {
				return err
			}
			j.GasTxs, j.GasUsed, j.GasWei = strconv.Itoa(gas.Txs), strconv.FormatUint(gas.Used, 10), gas.Wei.String()
			pend, err := w.Ledger.Pending(cmd.Context(), b.Address)
			if err != nil {
				return err
			}
			for _, p := range pend {
				if p.Waiting != "" {
					j.Waiting = append(j.Waiting, waitingJSON{Channel: p.Channel.Hex(), Amount: p.Amount.String(), Why: p.Waiting})
				}
			}
			rows := [][2]string{{"earned", j.Earned}, {"settled", j.Settled}, {"paid out", j.PaidOut}, {"pending", j.Pending}, {"lost", j.Lost},
				{"spent", j.Spent}, {"deposited", j.Deposited}, {"refunded", j.Refunded},
				{fmt.Sprintf("gas spent (%d txs, %d gas)", gas.Txs, gas.Used), j.GasWei + " wei"}}
			if wf.chain.onChain() {
				ch, closeChain, err := openChain(cmd, g, wf, w)
				if err != nil {
					return err
				}
				defer closeChain()
				held, err := ch.TokenBalance(cmd.Context(), b.Address)
				if err != nil {
					return fmt.Errorf("reading the token balance: %w", err)
				}
				j.Network, j.OnChain, j.Unit = ch.Network.Name, held.String(), ch.Network.Symbol
				rows = append(rows, [2]string{"on chain (" + ch.Network.Name + ")", j.OnChain})
				if tok, ok := wallet.WeiInToken(gas.Wei, ch.Network.TokenPerNative); ok {
					j.GasToken, j.Net = tok.String(), (b.Settled - tok).String()
					rows = append(rows, [2]string{"gas spent", j.GasToken}, [2]string{"net (settled minus gas)", j.Net})
				}
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), j)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintf(cmd.OutOrStdout(), "wallet %s (%s)\n", j.Address, j.Unit)
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t\n", r[0], r[1])
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, wt := range j.Waiting {
				fmt.Fprintf(cmd.OutOrStdout(), "settlement of %s on channel %s waits: %s\n", wt.Amount, wt.Channel, wt.Why)
			}
			return nil
		},
	}
}

func walletHistoryCmd(g *globals, wf *walletFlags) *cobra.Command {
	var by string
	var since time.Duration
	c := &cobra.Command{
		Use:   "history",
		Short: "Print money earned and spent per hour, day (UTC) or job",
		Long:  "Print money earned and spent per hour, day (UTC) or job. With --json, one object per line.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bucket := wallet.Bucket(by)
			if bucket != wallet.ByHour && bucket != wallet.ByDay && bucket != wallet.ByJob {
				return usageError{fmt.Errorf("--by %q: want hour, day or job", by)}
			}
			if since < 0 {
				return usageError{fmt.Errorf("--since %s: want a positive duration such as 24h", since)}
			}
			w, err := openWallet(cmd, g, wf)
			if err != nil {
				return err
			}
			defer w.Close()
			a, err := w.Address()
			if err != nil {
				return err
			}
			from := time.Time{}
			if since > 0 {
				from = time.Now().Add(-since)
			}
			rows, err := w.Ledger.History(cmd.Context(), a, bucket, from)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			if !g.json {
				fmt.Fprintf(tw, "%s\tEARNED\tSPENT\n", strings.ToUpper(by))
			}
			for _, r := range rows {
				key := r.Start.Format(time.RFC3339)
				if bucket == wallet.ByJob {
					key = r.Job.Hex()
					if r.Job == (common.Hash{}) {
						key = "(no job)"
					}
				}
				if g.json {
					m := map[string]string{"unit": wallet.Unit, "earned": r.Earned.String(), "spent": r.Spent.String()}
					if bucket == wallet.ByJob {
						m["job"] = key
					} else {
						m["start"] = key
					}
					if err := printJSON(out, m); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", key, r.Earned, r.Spent)
			}
			if g.json {
				return nil
			}
			return tw.Flush()
		},
	}
	c.Flags().StringVar(&by, "by", "day", "bucket: hour, day or job")
	c.Flags().DurationVar(&since, "since", 0, "only the last DURATION (e.g. 24h); default: everything")
	return c
}

// defaultDepositLock is how long `spare wallet deposit` locks a deposit
// on a chain: a provider takes a job only from a channel whose deposit
// stays locked until the job's latest end, so an unlocked one pays for
// nothing; a day covers the jobs of a day and keeps the money from the
// payer no longer than that (plus the grace period after a close request).
const defaultDepositLock = 24 * time.Hour

// checkDepositLock bounds --lock: at least a minute, at most the escrow's
// MAX_LOCK.
func checkDepositLock(lock time.Duration) error {
	if lock < time.Minute || lock > evm.MaxLock {
		return fmt.Errorf("--lock %s: must be from 1m to %s (31 days, the escrow's MAX_LOCK); "+
			"providers take jobs only from a deposit locked until the job's latest end", lock, evm.MaxLock)
	}
	return nil
}

func walletDepositCmd(g *globals, wf *walletFlags) *cobra.Command {
	var payee, signer, amount, channel string
	var lock time.Duration
	c := &cobra.Command{
		Use:   "deposit --payee ADDR --amount AMOUNT [--lock DURATION] | --channel ID --amount AMOUNT [--lock DURATION]",
		Short: "Deposit into a new payment channel for a payee, or top one up; on a chain, the deposit is locked for --lock",
		Long: `Deposit into a new payment channel for a payee (--payee), or top one up
(--channel; this cancels a pending close request).

On a chain (--network or --rpc, else the network chosen in Settings) the
deposit is locked in the escrow for --lock from now (default 24h, at most
744h: the escrow's 31 days): a provider takes only jobs that end before the
deposit unlocks, and the payer can take back what was not settled only
after it unlocks and a 24 h grace period after a close request has passed.
The output says until when it is locked (locked_until). A top-up keeps the
channel's lock unless --lock is given, which extends it to --lock from now
when that is later. The embedded ledger's IOUs have no lock.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := wf.resolveChain(g); err != nil {
				return err
			}
			if err := checkDepositLock(lock); err != nil {
				return usageError{err}
			}
			amt, err := wallet.ParseAmount(amount)
			if err != nil {
				return usageError{fmt.Errorf("--amount: %w", err)}
			}
			if amt <= 0 {
				return usageError{errors.New("--amount must be more than 0")}
			}
			if (payee == "") == (channel == "") {
				return usageError{errors.New("give exactly one of --payee (new channel) or --channel (top-up)")}
			}
			if payee != "" && !common.IsHexAddress(payee) {
				return usageError{fmt.Errorf("--payee %q is not an address (0x followed by 40 hex digits)", payee)}
			}
			if signer != "" && !common.IsHexAddress(signer) {
				return usageError{fmt.Errorf("--signer %q is not an address", signer)}
			}
			w, err := openWallet(cmd, g, wf)
			if err != nil {
				return err
			}
			defer w.Close()
			lockSet := cmd.Flags().Changed("lock")
			if wf.chain.onChain() {
				return depositOnChain(cmd, g, wf, w, depositArgs{payee: payee, signer: signer, channel: channel, amount: amt, lock: lock, extend: lockSet})
			}
			if lockSet {
				return usageError{errors.New("--lock: only a deposit on a chain (--network or --rpc) is locked; the embedded ledger's IOUs are not")}
			}
			s, err := w.LedgerSettlement()
			if err != nil {
				return err
			}
			if channel != "" {
				id, err := parseChannel(channel)
				if err != nil {
					return err
				}
				if err := s.TopUp(cmd.Context(), id, amt); err != nil {
					return err
				}
				return report(cmd, g, map[string]string{"channel": id.Hex(), "topped_up": amt.String(), "unit": wallet.Unit})
			}
			sig := s.Me
			if signer != "" {
				sig = common.HexToAddress(signer)
			}
			ch, err := s.Open(cmd.Context(), common.HexToAddress(payee), sig, amt)
			if err != nil {
				return err
			}
			return report(cmd, g, map[string]string{"channel": ch.ID.Hex(), "payee": ch.Payee.Hex(), "deposit": ch.Deposit.String(), "unit": wallet.Unit})
		},
	}
	c.Flags().StringVar(&payee, "payee", "", "address to pay (opens a new channel)")
	c.Flags().StringVar(&signer, "signer", "", "address that signs vouchers (default: this wallet)")
	c.Flags().StringVar(&channel, "channel", "", "existing channel to top up (cancels a pending close)")
	c.Flags().StringVar(&amount, "amount", "", "amount in "+wallet.Unit+", e.g. 5.00")
	c.Flags().DurationVar(&lock, "lock", defaultDepositLock, "on a chain: keep the deposit locked for DURATION from now (1m to 744h); providers take only jobs that end before it unlocks")
	return c
}

func parseChannel(s string) (common.Hash, error) {
	b := common.FromHex(s)
	if len(b) != 32 || !strings.HasPrefix(s, "0x") {
		return common.Hash{}, usageError{fmt.Errorf("--channel %q: want 0x followed by 64 hex digits", s)}
	}
	return common.BytesToHash(b), nil
}

func report(cmd *cobra.Command, g *globals, m map[string]string) error {
	if g.json {
		return printJSON(cmd.OutOrStdout(), m)
	}
	keys := []string{"network", "channel", "payee", "deposit", "topped_up", "locked_until", "state", "refund", "paid_out", "to", "grace_ends", "tx", "explorer"}
	var parts []string
	for _, k := range keys {
		if v, ok := m[k]; ok {
			parts = append(parts, k+" "+v)
		}
	}
	fmt.Fprintln(cmd.OutOrStdout(), strings.Join(parts, ", "))
	return nil
}

func walletWithdrawCmd(g *globals, wf *walletFlags) *cobra.Command {
	var channel, amount, to string
	c := &cobra.Command{
		Use:   "withdraw --channel ID | --amount AMOUNT --to DEST",
		Short: "Close a channel you pay from (refund after the 24 h grace period), or record a payout of settled earnings",
		Long: `With --channel: the first call asks to close the channel; the payee then has
24 hours to settle; a call after that refunds the deposit minus what was
settled. With --amount and --to: record a payout of settled earnings to DEST.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := wf.resolveChain(g); err != nil {
				return err
			}
			if (channel == "") == (amount == "") {
				return usageError{errors.New("give either --channel, or --amount with --to")}
			}
			var amt wallet.Amount
			if amount != "" {
				var err error
				if amt, err = wallet.ParseAmount(amount); err != nil {
					return usageError{fmt.Errorf("--amount: %w", err)}
				}
				if amt <= 0 || to == "" {
					return usageError{errors.New("--amount must be more than 0 and --to names where it goes")}
				}
			}
			var id common.Hash
			if channel != "" {
				var err error
				if id, err = parseChannel(channel); err != nil {
					return err
				}
			}
			w, err := openWallet(cmd, g, wf)
			if err != nil {
				return err
			}
			defer w.Close()
			if wf.chain.onChain() {
				return withdrawOnChain(cmd, g, wf, w, id, amt, to)
			}
			s, err := w.LedgerSettlement()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if channel == "" {
				dest, err := wallet.ParsePayoutAddress(to, s.Me)
				if err != nil {
					return usageError{fmt.Errorf("--to: %s", strings.TrimPrefix(err.Error(), wallet.ErrBadPayee.Error()+": "))}
				}
				if err := w.Ledger.RecordPayout(ctx, s.Me, amt, dest.Hex(), ""); err != nil {
					return err
				}
				return report(cmd, g, map[string]string{"paid_out": amt.String(), "to": dest.Hex(), "unit": wallet.Unit})
			}
			ch, err := w.Ledger.Channel(ctx, id)
			if err != nil {
				return err
			}
			if ch.CloseRequestedAt == 0 {
				if err := s.RequestClose(ctx, id); err != nil {
					return err
				}
				ends := time.Now().Add(wallet.CloseGrace).UTC().Format(time.RFC3339)
				return report(cmd, g, map[string]string{"channel": id.Hex(), "state": "closing", "grace_ends": ends})
			}
			refund, err := s.Withdraw(ctx, id)
			if err != nil {
				return err
			}
			return report(cmd, g, map[string]string{"channel": id.Hex(), "state": "closed", "refund": refund.String(), "unit": wallet.Unit})
		},
	}
	c.Flags().StringVar(&channel, "channel", "", "channel you pay from to close and withdraw")
	c.Flags().StringVar(&amount, "amount", "", "payout amount in "+wallet.Unit)
	c.Flags().StringVar(&to, "to", "", "the Ethereum address (0x…) to pay out to")
	return c
}

func walletExportCmd(g *globals, wf *walletFlags) *cobra.Command {
	var out, newPW string
	c := &cobra.Command{
		Use:   "export [--out FILE] [--new-passphrase-file FILE]",
		Short: "Write the wallet key as an Ethereum keystore v3 file (still encrypted)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := openWallet(cmd, g, wf)
			if err != nil {
				return err
			}
			defer w.Close()
			pw, err := w.Passphrase()
			if err != nil {
				return err
			}
			np, err := readPassphrase(newPW, cmd.InOrStdin())
			if err != nil {
				return usageError{err}
			}
			b, err := w.Keys.Export(pw, np)
			if err != nil {
				return err
			}
			if out == "" {
				_, err = cmd.OutOrStdout().Write(append(b, '\n'))
				return err
			}
			return localapi.WriteKeystoreFile(out, b)
		},
	}
	c.Flags().StringVar(&out, "out", "", "new file to write (mode 0600; an existing file or link is refused); default: stdout")
	c.Flags().StringVar(&newPW, "new-passphrase-file", "", "re-encrypt under this passphrase (for a wallet elsewhere)")
	return c
}

func walletImportCmd(g *globals, wf *walletFlags) *cobra.Command {
	var keyPW string
	c := &cobra.Command{
		Use:   "import FILE --key-passphrase-file FILE",
		Short: "Import a keystore v3 file from another Ethereum wallet (refuses to replace a key)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyPW == "" {
				return usageError{errors.New("--key-passphrase-file is required: the passphrase the file is encrypted with")}
			}
			kp, err := readPassphrase(keyPW, cmd.InOrStdin())
			if err != nil {
				return usageError{err}
			}
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("reading %s: %w", args[0], err)
			}
			w, err := openWallet(cmd, g, wf)
			if err != nil {
				return err
			}
			defer w.Close()
			pw, err := w.Passphrase()
			if err != nil {
				return err
			}
			a, err := w.Keys.Import(raw, kp, pw)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), map[string]string{"address": a.Hex()})
			}
			fmt.Fprintln(cmd.OutOrStdout(), "imported", a.Hex())
			return nil
		},
	}
	c.Flags().StringVar(&keyPW, "key-passphrase-file", "", "file holding the imported file's passphrase (\"-\": stdin)")
	return c
}
