package market

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
)

const jobID JobID = "00112233445566778899aabbccddeeff"

var (
	payer   = Address{1}
	payee   = Address{2}
	channel = Hash{3}
	sig     = bytes.Repeat([]byte{7}, MaxSigLen)
)

func sampleMessages() []Message {
	spec := validSpec()
	return []Message{
		&Proposal{JobID: jobID, Spec: *spec, Requester: payer},
		&QuoteMsg{JobID: jobID, Quote: Quote{JobHash: spec.JobHash(), Price: Price{PerGPUSecond: 5}, Rate: 5, IntervalSeconds: 10, MaxDurationSeconds: 3600, ExpiresAt: time.Unix(1_700_000_030, 0).UTC()}},
		&RefusalMsg{JobID: jobID, Refusal: Refusal{Code: RefuseBusy, Message: "gaming"}},
		&AgreementMsg{JobID: jobID, JobHash: spec.JobHash(), Requester: payer, Payee: payee, ChannelID: channel, Deposit: 18_000, GPUs: 1, CPUs: 2000,
			Price: Price{PerGPUSecond: 5}, IntervalSeconds: 10, MaxDurationSeconds: 3600, StartsAt: 1_700_000_000, RequesterSig: sig},
		&Receipt{JobID: jobID, Seq: 2, Start: 1_700_000_010, End: 1_700_000_020, GPUms: 10_000, CPUms: 20_000, Cumulative: 100, PrevHash: Hash{9}, Sig: sig},
		&Voucher{JobID: jobID, ChannelID: channel, Cumulative: 100, Sig: sig},
		&LogChunk{JobID: jobID, Seq: 1, Stream: "stdout", Data: []byte("hello\n")},
		&Result{JobID: jobID, ExitCode: 0, Outputs: []Output{{Path: "/output/x", Digest: digestA, Size: 3}}, LogTail: "done"},
		&Preemption{JobID: jobID, Reason: PreemptUserReturned, Frozen: true, GraceSeconds: 30},
		&Cancel{JobID: jobID, Reason: "changed my mind"},
	}
}

func TestMessageRoundTrip(t *testing.T) {
	for _, m := range sampleMessages() {
		b, err := EncodeMessage(m)
		if err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		got, err := DecodeMessage(b)
		if err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		again, err := EncodeMessage(got)
		if err != nil || !bytes.Equal(again, b) {
			t.Errorf("%T: re-encoding differs:\n%s\n%s", m, b, again)
		}
	}
}

func body(typ, ver uint64, payload string) []byte {
	b := binary.AppendUvarint(nil, typ)
	b = binary.AppendUvarint(b, ver)
	return append(b, payload...)
}

func TestDecodeMessageRejects(t *testing.T) {
	okCancel := `{"job_id":"` + string(jobID) + `"}`
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "no type"},
		{"unknown type", body(99, 1, okCancel), "unknown type 99"},
		{"reserved error type", body(0x7f, 1, okCancel), "unknown type 127"},
		{"future version", body(uint64(TypeCancel), 2, okCancel), "version 2 not supported"},
		{"oversized", body(uint64(TypeCancel), 1, strings.Repeat(" ", MaxMessageSize)), "at most"},
		{"unknown field", body(uint64(TypeCancel), 1, `{"job_id":"`+string(jobID)+`","x":1}`), `unknown field "x"`},
		{"trailing", body(uint64(TypeCancel), 1, okCancel+`{}`), "data after"},
		{"bad job id", body(uint64(TypeCancel), 1, `{"job_id":"nope"}`), "job_id"},
		{"log too big", body(uint64(TypeLogChunk), 1, `{"job_id":"`+string(jobID)+`","seq":1,"stream":"stdout","data":"`+strings.Repeat("A", 4*(MaxLogChunk/3+8))+`"}`), "data:"},
		{"receipt seq 0", body(uint64(TypeReceipt), 1, `{"job_id":"`+string(jobID)+`","seq":0,"start":1,"end":2,"gpu_ms":0,"cpu_ms":0,"cumulative":0,"prev_hash":"0x`+strings.Repeat("0", 64)+`","sig":null}`), "seq"},
		{"receipt too long", body(uint64(TypeReceipt), 1, `{"job_id":"`+string(jobID)+`","seq":1,"start":1,"end":10000,"gpu_ms":0,"cpu_ms":0,"cumulative":0,"prev_hash":"0x`+strings.Repeat("0", 64)+`","sig":null}`), "start..end"},
		{"short signature", body(uint64(TypeVoucher), 1, `{"job_id":"`+string(jobID)+`","channel_id":"0x`+strings.Repeat("1", 64)+`","cumulative":1,"sig":"AAAA"}`), "65-byte"},
		{"result escapes output", body(uint64(TypeResult), 1, `{"job_id":"`+string(jobID)+`","exit_code":0,"outputs":[{"path":"/etc/passwd","digest":"`+digestA+`","size":1}]}`), "outputs[0].path"},
		{"refusal code with spaces", body(uint64(TypeRefusal), 1, `{"job_id":"`+string(jobID)+`","code":"go away","message":""}`), "not a code"},
		{"result error with escapes", body(uint64(TypeResult), 1, `{"job_id":"`+string(jobID)+`","exit_code":-1,"error":"timeout\u001b[2J"}`), "error:"},
		{"result error too long", body(uint64(TypeResult), 1, `{"job_id":"`+string(jobID)+`","exit_code":-1,"error":"`+strings.Repeat("x", 65)+`"}`), "error:"},
		{"preemption without reason", body(uint64(TypePreemption), 1, `{"job_id":"`+string(jobID)+`","reason":"","frozen":true,"grace_seconds":0}`), "reason:"},
		{"preemption reason in capitals", body(uint64(TypePreemption), 1, `{"job_id":"`+string(jobID)+`","reason":"USER_RETURNED","frozen":true,"grace_seconds":0}`), "not a code"},
		{"agreement without deposit", body(uint64(TypeAgreement), 1, `{"job_id":"`+string(jobID)+`","job_hash":"0x`+strings.Repeat("1", 64)+`","requester":"0x`+strings.Repeat("1", 40)+`","payee":"0x`+strings.Repeat("2", 40)+`","channel_id":"0x`+strings.Repeat("3", 64)+`","gpus":0,"cpu_millis":1000,"price":{"per_gpu_second":0,"per_cpu_second":1},"interval_seconds":10,"max_duration_seconds":60,"starts_at":1700000000,"requester_sig":null}`), "deposit"},
		{"agreement deposit past int64", body(uint64(TypeAgreement), 1, `{"job_id":"`+string(jobID)+`","job_hash":"0x`+strings.Repeat("1", 64)+`","requester":"0x`+strings.Repeat("1", 40)+`","payee":"0x`+strings.Repeat("2", 40)+`","channel_id":"0x`+strings.Repeat("3", 64)+`","deposit":9223372036854775808,"gpus":0,"cpu_millis":1000,"price":{"per_gpu_second":0,"per_cpu_second":1},"interval_seconds":10,"max_duration_seconds":60,"starts_at":1700000000,"requester_sig":null}`), "deposit"},
		{"proposal invalid spec", body(uint64(TypeProposal), 1, `{"job_id":"`+string(jobID)+`","requester":"0x`+strings.Repeat("1", 40)+`","spec":{"max_price":1}}`), "image.digest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeMessage(tc.in)
			if !errors.Is(err, ErrBadMessage) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrBadMessage mentioning %q", err, tc.want)
			}
		})
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, m := range sampleMessages() {
		b, err := EncodeMessage(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error without ErrBadMessage: %v", err)
			}
			return
		}
		again, err := EncodeMessage(m)
		if err != nil {
			t.Fatalf("decoded %T does not re-encode: %v", m, err)
		}
		if _, err := DecodeMessage(again); err != nil {
			t.Fatalf("re-encoded %T does not decode: %v", m, err)
		}
	})
}

// A code this version does not know decodes (new codes may be added) and
// is a failure of the job, not a reason to try another provider.
func TestDecodeUnknownCodes(t *testing.T) {
	m, err := DecodeMessage(body(uint64(TypeResult), 1, `{"job_id":"`+string(jobID)+`","exit_code":-1,"error":"gpu_fell_off"}`))
	if err != nil {
		t.Fatal(err)
	}
	if e := m.(*Result).Error; e != "gpu_fell_off" || e.Retryable() {
		t.Errorf("error %q retryable %v, want gpu_fell_off, not retryable", e, e.Retryable())
	}
	m, err = DecodeMessage(body(uint64(TypePreemption), 1, `{"job_id":"`+string(jobID)+`","reason":"solar_eclipse","frozen":true,"grace_seconds":0}`))
	if err != nil || m.(*Preemption).Reason != "solar_eclipse" {
		t.Fatalf("%+v, %v", m, err)
	}
}

func TestResultErrorRetryable(t *testing.T) {
	tests := []struct {
		code ResultError
		want bool
	}{
		{"", false},
		{ResultTimeout, false},
		{ResultMemory, false},
		{ResultOutputFull, false},
		{ResultCancelled, false},
		{ResultCreditLimit, false},
		{ResultPreempted, true},
		{ResultInternal, true},
		{ResultError(PreemptUserReturned), true},
		{ResultError(PreemptDraining), true},
		{ResultError(PreemptCreditLimit), false},
		{"gpu_fell_off", false},
	}
	for _, tc := range tests {
		if got := tc.code.Retryable(); got != tc.want {
			t.Errorf("%q.Retryable() = %v, want %v", tc.code, got, tc.want)
		}
	}
}

// The codes' wire values are a contract: renaming one breaks peers.
func TestCodesOnTheWire(t *testing.T) {
	b, err := EncodeMessage(&Result{JobID: jobID, ExitCode: -1, Error: ResultOutputFull})
	if err != nil || !bytes.Contains(b, []byte(`"error":"output_full"`)) {
		t.Errorf("result %s, %v", b, err)
	}
	b, err = EncodeMessage(&Preemption{JobID: jobID, Reason: PreemptUserReturned, Frozen: true})
	if err != nil || !bytes.Contains(b, []byte(`"reason":"user_returned"`)) {
		t.Errorf("preemption %s, %v", b, err)
	}
}
