package refresher

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/workable"
)

// Credentials lists the gateway's credentials and gives each one's client
// (credentials.Registry).
type Credentials interface {
	List(ctx context.Context) ([]credentials.Credential, error)
	Client(ctx context.Context, nickname string) (*workable.Client, credentials.Credential, error)
}

// ManagerConfig is where the credentials come from, and the configuration
// of every credential's refresher (Config, whose Credential and Client the
// manager sets for each credential).
type ManagerConfig struct {
	Credentials Credentials
	Config
}

// Manager runs one refresher per credential: it starts one for each
// credential added, restarts it when the credential's client changes (a
// new token), and stops it when the credential is removed.
type Manager struct {
	cfg     ManagerConfig
	running map[string]*running
}

type running struct {
	client *workable.Client
	cancel context.CancelFunc
	done   chan struct{}
}

// NewManager returns a manager; it checks the configuration as New does.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	if cfg.Credentials == nil {
		return nil, errors.New("refresher: no credentials")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.checkShared(); err != nil {
		return nil, err
	}
	return &Manager{cfg: cfg, running: make(map[string]*running)}, nil
}

func (cfg ManagerConfig) refresherConfig(nickname string, c *workable.Client) Config {
	rc := cfg.Config
	rc.Credential, rc.Client = nickname, c
	return rc
}

// Run keeps the refreshers in step with the credentials, checking them
// every Interval, until ctx ends; it then stops them and returns once
// they have stopped.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		m.sync(ctx)
		select {
		case <-ctx.Done():
			for nick := range m.running {
				m.stop(nick)
			}
			return
		case <-t.C:
		}
	}
}

// sync starts, restarts and stops refreshers to match the credentials.
// When the credentials cannot be listed, the running refreshers go on.
func (m *Manager) sync(ctx context.Context) {
	list, err := m.cfg.Credentials.List(ctx)
	var unreadable *credentials.UnreadableError
	if err != nil && !errors.As(err, &unreadable) {
		if ctx.Err() == nil {
			m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "refresher: cannot list the credentials; the running refreshers go on", slog.Any("err", err))
		}
		return
	}
	seen := make(map[string]bool, len(list))
	for _, cred := range list {
		seen[cred.Nickname] = true
		client, _, err := m.cfg.Credentials.Client(ctx, cred.Nickname)
		if err != nil {
			m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "refresher: no client for a credential", slog.String("credential", cred.Nickname), slog.Any("err", err))
			continue
		}
		if r, ok := m.running[cred.Nickname]; ok {
			if r.client == client {
				continue
			}
			m.stop(cred.Nickname)
		}
		ref, err := New(m.cfg.refresherConfig(cred.Nickname, client))
		if err != nil {
			m.cfg.Logger.LogAttrs(ctx, slog.LevelError, "refresher: cannot start", slog.String("credential", cred.Nickname), slog.Any("err", err))
			continue
		}
		rctx, cancel := context.WithCancel(ctx)
		r := &running{client: client, cancel: cancel, done: make(chan struct{})}
		m.running[cred.Nickname] = r
		go func() {
			defer close(r.done)
			ref.Run(rctx)
		}()
	}
	for nick := range m.running {
		if !seen[nick] {
			m.stop(nick)
		}
	}
}

func (m *Manager) stop(nickname string) {
	r := m.running[nickname]
	r.cancel()
	<-r.done
	delete(m.running, nickname)
}
