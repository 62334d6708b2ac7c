package cluster

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/tia-platform/tia/services/platform/healthcheck"
)

// What fault tests need beyond starting and stopping: several instances of
// one service, whether a process was restarted, and whether one instance
// serves.

// instanceName names the i-th (from 0) instance of a service: the first is
// named like the service, so a cluster of single instances keeps its names.
func instanceName(service string, i int) string {
	if i == 0 {
		return service
	}
	return service + "-" + strconv.Itoa(i+1)
}

// serviceOf is the service (binary) an instance name belongs to.
func serviceOf(name string) string {
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i]
		}
	}
	return name
}

// Instances names the running instances of a service, as Kill and Restart
// take them: "activity", "activity-2", ….
func (c *Cluster) Instances(service string) []string {
	var names []string
	for _, name := range c.order {
		if name != Gateway && serviceOf(name) == service {
			names = append(names, name)
		}
	}
	return names
}

// PID is the operating-system process id of a running process, 0 when it
// is not running. A fault test compares it before and after a fault to show
// that a service recovered without being restarted.
func (c *Cluster) PID(name string) int {
	p, ok := c.procs[name]
	if !ok {
		return 0
	}
	if exited, _ := p.exited(); exited {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// PIDs is PID of every process, by name.
func (c *Cluster) PIDs() map[string]int {
	pids := map[string]int{}
	for _, name := range c.order {
		pids[name] = c.PID(name)
	}
	return pids
}

// waitServing polls one service instance's grpc.health.v1 (the overall
// status, "") on its gRPC address until it is SERVING.
func (c *Cluster) waitServing(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	cc, err := grpc.NewClient(c.addrs[name], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("cluster: %s: %w", name, err)
	}
	defer cc.Close()
	err = healthcheck.Wait(ctx, cc, "", 100*time.Millisecond, func() error {
		if exited, err := c.procs[name].exited(); exited {
			return fmt.Errorf("exited: %v", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cluster: %s (waited up to %s): %w", name, readyTimeout, err)
	}
	return nil
}
