package presence

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
)

func TestGamesFind(t *testing.T) {
	procs := []proc{
		{pid: 1, name: "systemd", exe: "/usr/lib/systemd/systemd"},
		{pid: 200, name: "hl2_linux", exe: "/home/a/.local/share/Steam/steamapps/common/Half-Life 2/hl2_linux"},
		{pid: 300, name: "wine64-preloader", args: `Z:\home\a\.steam\steam\steamapps\common\ELDEN RING\Game\eldenring.exe`},
		{pid: 400, name: "blender", exe: "/usr/bin/blender"},
		{pid: 401, name: "blender", exe: "/usr/bin/blender"},
	}
	list := func(context.Context) ([]proc, error) { return procs, nil }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name string
		g    Games
		want string
		pids []uint32
	}{
		{"steam native game", Games{list: list}, "Half-Life 2", []uint32{200}},
		{"named program first in list order", Games{Names: []string{"Blender.exe"}, NoSteam: true, list: list}, "blender", []uint32{400, 401}},
		{"proton game by its arguments", Games{list: func(context.Context) ([]proc, error) { return procs[2:3], nil }}, "ELDEN RING", []uint32{300}},
		{"nothing", Games{NoSteam: true, list: list}, "", nil},
		{"disabled", Games{Disabled: true, Names: []string{"blender"}, list: list}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, pids := tt.g.find(context.Background(), log)
			if got != tt.want || !slices.Equal(pids, tt.pids) {
				t.Fatalf("find = %q %v, want %q %v", got, pids, tt.want, tt.pids)
			}
		})
	}
}

// TestListProcsReal lists this machine's processes and finds the test itself.
func TestListProcsReal(t *testing.T) {
	ps, err := listProcs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) < 2 {
		t.Fatalf("only %d processes", len(ps))
	}
	g := Games{Names: []string{ps[len(ps)-1].name}, NoSteam: true}
	if name, _ := g.find(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil))); name == "" {
		t.Fatal("a listed process name was not found")
	}
}
