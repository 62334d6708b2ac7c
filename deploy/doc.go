// Package deploy holds the deployment artefacts of TIA (docker-compose.yaml,
// the kustomize base and overlays in k8s/) and the tests that check them
// without a Docker engine or a Kubernetes cluster.
package deploy
