package node

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sparegpu/spare/localapi"
)

// EnergyLogName is the file in the data directory that keeps each ended
// job's energy, one JSON object per line (0600).
const EnergyLogName = "energy.jsonl"

// maxEnergyLog bounds what is read of the energy log: about 100 000 jobs.
const maxEnergyLog = 16 << 20

// energyRecord is one ended job's energy.
type energyRecord struct {
	Job       string    `json:"job"`
	Ended     time.Time `json:"ended"`
	MJ        int64     `json:"mj"`
	Estimated bool      `json:"estimated,omitempty"`
	// Wallet is the job as the wallet's history names it (its
	// agreement's ID, 0x…); "" for a job the wallet does not know.
	Wallet string `json:"wallet,omitempty"`
}

// energyLog keeps the ended jobs' energy for the owner's electricity
// figures (a view beside the wallet's, never a ledger entry).
type energyLog struct {
	mu   sync.Mutex
	path string
}

// add appends a record and syncs it.
func (l *energyLog) add(r energyRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// totals adds up the energy of jobs ended today, in the last 7 and the
// last 30 days (UTC days, today included, as the wallet counts), plus
// running jobs' energy so far as today's. A line that does not read is
// skipped: the figures are a view, and one torn line must not hide them.
func (l *energyLog) totals(now time.Time, running []JobEnergy) (localapi.Energy, error) {
	y, m, d := now.UTC().Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	week, month := today.AddDate(0, 0, -6), today.AddDate(0, 0, -29)
	var e localapi.Energy
	var mj [3]int64
	for _, r := range running {
		mj[0] += r.MilliJoules
		mj[1] += r.MilliJoules
		mj[2] += r.MilliJoules
		e.Estimated = e.Estimated || r.Estimated
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.Open(l.path)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	if f != nil {
		defer f.Close()
		sc := bufio.NewScanner(io.LimitReader(f, maxEnergyLog))
		for sc.Scan() {
			var r energyRecord
			if json.Unmarshal(sc.Bytes(), &r) != nil || r.MJ < 0 || r.Ended.Before(month) {
				continue
			}
			for i, from := range []time.Time{today, week, month} {
				if !r.Ended.Before(from) {
					mj[i] += r.MJ
				}
			}
			e.Estimated = e.Estimated || r.Estimated
		}
		err = sc.Err()
	}
	e.TodayMWh, e.WeekMWh, e.MonthMWh = mj[0]/3600, mj[1]/3600, mj[2]/3600
	return e, err
}

// byWalletJob is the energy of the ended jobs the wallet knows, by the
// wallet's name for each (several runs of one job add up), of the last
// 30 days. Lines that do not read are skipped, as in totals.
func (l *energyLog) byWalletJob(now time.Time) (map[string]JobEnergy, error) {
	from := now.UTC().AddDate(0, 0, -30)
	out := map[string]JobEnergy{}
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.Open(l.path)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, maxEnergyLog))
	for sc.Scan() {
		var r energyRecord
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.MJ < 0 || r.Wallet == "" || r.Ended.Before(from) {
			continue
		}
		e := out[r.Wallet]
		e.MilliJoules += r.MJ
		e.Estimated = e.Estimated || r.Estimated
		out[r.Wallet] = e
	}
	return out, sc.Err()
}

func newEnergyLog(dataDir string) *energyLog {
	return &energyLog{path: filepath.Join(dataDir, EnergyLogName)}
}
