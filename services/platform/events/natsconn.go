package events

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// embeddedReadyTimeout bounds how long StartEmbedded waits for the server,
// including JetStream recovering its store from a previous run.
const embeddedReadyTimeout = 30 * time.Second

// EmbeddedOption configures StartEmbedded.
type EmbeddedOption func(*server.Options)

// EmbeddedListen makes the embedded server also accept TCP clients on
// host:port, e.g. to inspect it with the nats CLI. Port -1 picks a free port
// (see server.Server.ClientURL). Without this option the server does not
// listen on any port.
func EmbeddedListen(host string, port int) EmbeddedOption {
	return func(o *server.Options) {
		o.DontListen = false
		o.Host = host
		o.Port = port
	}
}

// StartEmbedded starts an in-process NATS server with JetStream storing
// under dir, for the single-process deployment where running a separate
// NATS server would be overhead. By default it does not listen on any TCP
// port; the returned connection is an in-process pipe.
//
// Stop it with the returned server's Shutdown; that also closes the
// returned connection.
func StartEmbedded(dir string, opts ...EmbeddedOption) (*server.Server, *nats.Conn, error) {
	o := &server.Options{
		ServerName: "tia-embedded",
		JetStream:  true,
		StoreDir:   dir,
		DontListen: true,
		// The embedding process owns signal handling.
		NoSigs: true,
	}
	for _, opt := range opts {
		opt(o)
	}

	ns, err := server.NewServer(o)
	if err != nil {
		return nil, nil, fmt.Errorf("start embedded nats: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(embeddedReadyTimeout) {
		ns.Shutdown()
		return nil, nil, fmt.Errorf("start embedded nats: not ready after %s", embeddedReadyTimeout)
	}

	nc, err := nats.Connect(ns.ClientURL(),
		nats.InProcessServer(ns),
		nats.Name("tia-embedded"),
		// Should the pipe ever break while the server runs, get a new one;
		// the goroutine below ends the attempts once the server is gone.
		nats.MaxReconnects(-1),
	)
	if err != nil {
		ns.Shutdown()
		return nil, nil, fmt.Errorf("connect to embedded nats: %w", err)
	}
	go func() {
		ns.WaitForShutdown()
		nc.Close()
	}()
	return ns, nc, nil
}

// Connect connects to the NATS server(s) at url (comma-separated for a
// cluster) for production use. It retries the initial connection and
// reconnects forever, so a service can start before NATS and survive NATS
// restarts; Relay and Consumer resume once the connection is back.
// Connection state changes are logged.
func Connect(url string, name string) (*nats.Conn, error) {
	log := slog.Default().With("component", "nats", "connection", name)
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.ConnectHandler(func(nc *nats.Conn) {
			log.Info("nats connected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Error("nats async error", "subject", subject, "error", err)
		}),
	)
	if err != nil {
		// url is left out: it may carry credentials.
		return nil, fmt.Errorf("connect to nats as %s: %w", name, err)
	}
	return nc, nil
}
