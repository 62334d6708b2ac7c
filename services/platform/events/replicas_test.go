package events

import "testing"

func TestStreamReplicasSurvivePrefix(t *testing.T) {
	s := StreamFor("activity").WithReplicas(3).WithPrefix("prod.")
	if cfg := s.config(); cfg.Replicas != 3 || cfg.Name != "PROD_TIA_ACTIVITY" {
		t.Errorf("config = %s with %d replicas, want PROD_TIA_ACTIVITY with 3", cfg.Name, cfg.Replicas)
	}
	if StreamFor("travel").config().Replicas != 0 {
		t.Error("default replicas should be the server's")
	}
}
