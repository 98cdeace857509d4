package packaging

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
)

// crossBuild builds ./cmd/spare for another OS with cgo off, as the
// Windows and macOS releases need the daemon and CLI without a C
// cross-compiler.
func crossBuild(t *testing.T, goos, goarch, out string) {
	t.Helper()
	testenv.NeedCommand(t, "go", "golang-go")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.version="+testVersion, "-o", out, "./cmd/spare")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=%s GOARCH=%s CGO_ENABLED=0 go build ./cmd/spare: %v\n%s", goos, goarch, err, b)
	}
}

// TestCrossCompile checks that the daemon and CLI build for the other
// platforms the README describes, and that the results are what those
// systems load (a PE for Windows, a Mach-O for arm64 macOS).
func TestCrossCompile(t *testing.T) {
	for _, tc := range []struct {
		goos, goarch string
		magic        []byte
	}{
		{"windows", "amd64", []byte("MZ")},
		{"darwin", "arm64", []byte{0xcf, 0xfa, 0xed, 0xfe}}, // MH_MAGIC_64, little-endian
	} {
		t.Run(tc.goos+"/"+tc.goarch, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "spare")
			crossBuild(t, tc.goos, tc.goarch, out)
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, tc.magic) {
				t.Errorf("%s/%s binary starts % x, want % x", tc.goos, tc.goarch, b[:4], tc.magic)
			}
		})
	}
}

// TestWindowsSigning signs a cross-compiled spare.exe with sign.sh and a
// throwaway code-signing certificate, then has osslsigncode verify it
// against that certificate. Release builds pass a real certificate the
// same way.
func TestWindowsSigning(t *testing.T) {
	testenv.NeedCommand(t, "osslsigncode", "osslsigncode")
	dir := t.TempDir()
	exe := filepath.Join(dir, "spare.exe")
	crossBuild(t, "windows", "amd64", exe)
	cert, key := selfSignedCodeSigning(t, dir)

	signed := filepath.Join(dir, "spare-signed.exe")
	cmd := exec.Command("./windows/sign.sh", exe, signed)
	cmd.Env = append(os.Environ(), "SPARE_SIGN_CERT="+cert, "SPARE_SIGN_KEY="+key, "SPARE_SIGN_PKCS12=", "SPARE_SIGN_TIMESTAMP=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sign.sh: %v\n%s", err, out)
	}
	out, err := exec.Command("osslsigncode", "verify", "-CAfile", cert, "-ignore-cdp", "-in", signed).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Signature verification: ok") {
		t.Fatalf("osslsigncode verify: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Spare Test Signing") {
		t.Errorf("the signature does not name the signer:\n%s", out)
	}
	// The unsigned binary must not verify: the check above is not vacuous.
	if out, err := exec.Command("osslsigncode", "verify", "-CAfile", cert, "-in", exe).CombinedOutput(); err == nil {
		t.Errorf("an unsigned exe verified:\n%s", out)
	}
}

// selfSignedCodeSigning writes a PEM certificate (code signing) and key.
func selfSignedCodeSigning(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "Spare Test Signing", Organization: []string{"Spare"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}
