package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sparegpu/spare/localapi"
)

const explainPassphrase = "The passphrase is the wallet keystore's. A daemon that was never given one keeps its generated passphrase in DATA/wallet/passphrase (readable by its owner only)."

// walletPage shows the address and sends withdrawals and keystore exports
// to the daemon. Passphrases are cleared from the form once sent.
type walletPage struct {
	u       *UI
	box     *fyne.Container
	address *widget.Label
	copyBtn *widget.Button
	qr      *canvas.Image
	qrFor   string

	to, amount, wPass *widget.Entry
	withdrawBtn       *widget.Button
	withdrawOut       *widget.Label

	path, ePass, newPass *widget.Entry
	exportBtn            *widget.Button
	exportOut            *widget.Label

	money *moneyView
}

func newWalletPage(u *UI) *walletPage {
	p := &walletPage{u: u, address: widget.NewLabel("—"), to: widget.NewEntry(), amount: widget.NewEntry(),
		wPass: widget.NewPasswordEntry(), withdrawOut: wrapped(""), path: widget.NewEntry(),
		ePass: widget.NewPasswordEntry(), newPass: widget.NewPasswordEntry(), exportOut: wrapped(""), money: newMoneyView()}
	p.address.TextStyle.Monospace = true
	p.address.Wrapping = fyne.TextWrapBreak
	p.copyBtn = widget.NewButtonWithIcon("Copy address", theme.ContentCopyIcon(), nil)
	p.copyBtn.Disable()
	p.qr = canvas.NewImageFromImage(nil)
	p.qr.FillMode = canvas.ImageFillContain
	p.qr.ScaleMode = canvas.ImageScalePixels
	p.qr.SetMinSize(fyne.NewSize(180, 180))

	p.to.SetPlaceHolder("0x… address of the receiving wallet")
	p.amount.SetPlaceHolder("amount in " + unit + ", e.g. 1.25")
	p.withdrawBtn = widget.NewButtonWithIcon("Withdraw", theme.UploadIcon(), p.withdraw)
	withdraw := widget.NewForm(
		widget.NewFormItem("To", p.to),
		widget.NewFormItem("Amount", p.amount),
		widget.NewFormItem("Passphrase", p.wPass),
	)
	p.path.SetPlaceHolder("file to write, e.g. ~/spare-wallet.json")
	p.newPass.SetPlaceHolder("optional: encrypt the copy under a new passphrase")
	p.exportBtn = widget.NewButtonWithIcon("Export keystore", theme.DocumentSaveIcon(), p.export)
	export := widget.NewForm(
		widget.NewFormItem("Save to", p.path),
		widget.NewFormItem("Passphrase", p.ePass),
		widget.NewFormItem("New passphrase", p.newPass),
	)
	bold := func(s string) *widget.Label {
		return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	p.box = container.NewVBox(
		bold("Where your money is"), p.money.box,
		bold("Your wallet address"),
		p.address, container.NewHBox(p.copyBtn), container.NewHBox(p.qr),
		wrapped("Requesters pay this address."),
		bold("Withdraw settled earnings"), withdraw, container.NewHBox(p.withdrawBtn), p.withdrawOut,
		bold("Export the wallet key"),
		wrapped("A keystore v3 file (still encrypted) that Ethereum wallets import. It is written readable by you only."),
		export, container.NewHBox(p.exportBtn), p.exportOut,
		wrapped(explainPassphrase),
	)
	return p
}

func (p *walletPage) render(v View) {
	if p.money.render(v.Wallet) {
		p.box.Refresh()
	}
	var addr string
	if v.Wallet != nil {
		addr = v.Wallet.Address
		p.amount.SetPlaceHolder("up to " + v.Wallet.Available.String() + " " + unit + " (settled, not paid out)")
	}
	p.address.SetText(orDash(addr))
	if addr == "" {
		p.copyBtn.Disable()
		return
	}
	p.copyBtn.OnTapped = func() { p.u.a.fy.Clipboard().SetContent(addr) }
	p.copyBtn.Enable()
	if p.qrFor == addr {
		return
	}
	img, err := qrImage(addr)
	if err != nil {
		return
	}
	p.qr.Image = img.Image
	p.qrFor = addr
	p.qr.Refresh()
}

// withdraw sends the withdrawal; the daemon checks the address, the
// amount and the passphrase and names the field at fault.
func (p *walletPage) withdraw() {
	req := localapi.WithdrawRequest{To: strings.TrimSpace(p.to.Text), Amount: strings.TrimSpace(p.amount.Text), Passphrase: p.wPass.Text}
	p.wPass.SetText("")
	p.withdrawBtn.Disable()
	p.run(func(ctx context.Context) (string, error) {
		res, err := p.u.a.cfg.Client.Withdraw(ctx, req)
		if err != nil {
			return "", err
		}
		return "Paid out " + res.Amount.String() + " " + unit + " to " + res.To + ". " + res.Available.String() + " " + unit + " left to withdraw.", nil
	}, p.withdrawBtn, p.withdrawOut, func() { p.amount.SetText("") })
}

// export asks the daemon for the keystore and writes it (0600, never
// over an existing file).
func (p *walletPage) export() {
	path := strings.TrimSpace(p.path.Text)
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, rest)
		}
	}
	req := localapi.ExportRequest{Passphrase: p.ePass.Text, NewPassphrase: p.newPass.Text}
	p.ePass.SetText("")
	p.newPass.SetText("")
	p.exportBtn.Disable()
	p.run(func(ctx context.Context) (string, error) {
		if path == "" {
			return "", errors.New("save to: name the file to write, e.g. ~/spare-wallet.json")
		}
		res, err := p.u.a.cfg.Client.ExportKeystore(ctx, req, path)
		if err != nil {
			return "", err
		}
		return "Wrote the key of " + res.Address + " to " + path + ". Keep it and its passphrase safe: together they spend from this wallet.", nil
	}, p.exportBtn, p.exportOut, nil)
}

// run calls the daemon off the UI thread and shows the outcome in out.
func (p *walletPage) run(call func(context.Context) (string, error), btn *widget.Button, out *widget.Label, ok func()) {
	a := p.u.a
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		msg, err := call(ctx)
		a.draw(func() {
			btn.Enable()
			if err != nil {
				out.Importance = widget.DangerImportance
				var le *localapi.Error
				if errors.As(err, &le) {
					out.SetText(le.Message)
				} else {
					out.SetText(err.Error())
				}
				return
			}
			out.Importance = widget.SuccessImportance
			out.SetText(msg)
			if ok != nil {
				ok()
			}
		})
	}()
}
