package deploy

import (
	"github.com/tia-platform/tia/services/platform/app"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

var overlays = []string{"dev", "prod"}

// architectureCallers are the calls between services that the architecture
// names (README.md) although a binary may not declare the peer yet: the
// travel service asks the activity registry whether a certificate is valid.
var architectureCallers = map[string][]string{"activity": {"travel"}}

// rendered is an overlay as kustomize builds it, decoded into API types.
type rendered struct {
	name         string
	deployments  map[string]*appsv1.Deployment
	services     map[string]*corev1.Service
	configMaps   map[string]*corev1.ConfigMap
	hpas         map[string]*autoscalingv2.HorizontalPodAutoscaler
	pdbs         map[string]*policyv1.PodDisruptionBudget
	policies     []*networkingv1.NetworkPolicy
	namespace    string
	objectsTotal int
}

func strictDecoder(t *testing.T) runtime.Decoder {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		appsv1.AddToScheme, corev1.AddToScheme, autoscalingv2.AddToScheme, policyv1.AddToScheme, networkingv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
		kjson.SerializerOptions{Yaml: true, Strict: true})
}

// render builds an overlay with the kustomize API and decodes every object
// strictly: an unknown or duplicated field, or a kind outside the API types
// used here, fails the test.
func render(t *testing.T, overlay string) *rendered {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join("k8s", "overlays", overlay))
	if err != nil {
		t.Fatalf("kustomize build k8s/overlays/%s: %v", overlay, err)
	}
	dec := strictDecoder(t)
	r := &rendered{
		name:        overlay,
		deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		configMaps: map[string]*corev1.ConfigMap{}, hpas: map[string]*autoscalingv2.HorizontalPodAutoscaler{},
		pdbs: map[string]*policyv1.PodDisruptionBudget{},
	}
	for _, res := range m.Resources() {
		y, err := res.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		obj, gvk, err := dec.Decode(y, nil, nil)
		if err != nil {
			t.Errorf("%s: %s %s: %v", overlay, res.GetKind(), res.GetName(), err)
			continue
		}
		r.objectsTotal++
		meta := obj.(metav1.Object)
		if r.namespace == "" {
			r.namespace = meta.GetNamespace()
		} else if meta.GetNamespace() != r.namespace {
			t.Errorf("%s: %s %s in namespace %q, others in %q", overlay, gvk.Kind, meta.GetName(), meta.GetNamespace(), r.namespace)
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			r.deployments[o.Name] = o
		case *corev1.Service:
			r.services[o.Name] = o
		case *corev1.ConfigMap:
			r.configMaps[o.Name] = o
		case *autoscalingv2.HorizontalPodAutoscaler:
			r.hpas[o.Name] = o
		case *policyv1.PodDisruptionBudget:
			r.pdbs[o.Name] = o
		case *networkingv1.NetworkPolicy:
			r.policies = append(r.policies, o)
		default:
			t.Errorf("%s: unexpected %v %s (secrets are referenced, never rendered)", overlay, gvk, meta.GetName())
		}
	}
	if r.namespace == "" {
		t.Errorf("%s: no namespace", overlay)
	}
	return r
}

func TestKustomizeStrictDecodingCatchesUnknownFields(t *testing.T) {
	// The decoder the tests rely on rejects a misspelt field.
	bad := []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replica: 2\n")
	if _, _, err := strictDecoder(t).Decode(bad, nil, nil); err == nil || !runtime.IsStrictDecodingError(err) {
		t.Fatalf("decoding an unknown field: err = %v, want a strict decoding error", err)
	}
}

func TestKustomizeOverlays(t *testing.T) {
	for _, overlay := range overlays {
		t.Run(overlay, func(t *testing.T) {
			r := render(t, overlay)
			for _, b := range append(append([]string(nil), services...), gateway) {
				t.Run(b, func(t *testing.T) { r.checkWorkload(t, b) })
			}
			t.Run("NetworkPolicies", r.checkNetworkPolicies)
		})
	}
}

func (r *rendered) checkWorkload(t *testing.T, b string) {
	d, ok := r.deployments[b]
	if !ok {
		t.Fatalf("no Deployment %s", b)
	}
	pod := &d.Spec.Template
	if sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err != nil || !sel.Matches(labels.Set(pod.Labels)) {
		t.Errorf("the Deployment's selector does not match its pods")
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	image := "ghcr.io/tia-platform/tia-" + b + ":"
	if !strings.HasPrefix(c.Image, image) || strings.HasSuffix(c.Image, ":latest") {
		t.Errorf("image %s, want %s<tag>", c.Image, image)
	}

	// A non-root, read-only security context on every container.
	ps := pod.Spec.SecurityContext
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.SeccompProfile == nil {
		t.Errorf("pod security context is not non-root with a seccomp profile")
	}
	if pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken {
		t.Errorf("the pod mounts a service account token it does not need")
	}
	all := append(append([]corev1.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, c := range all {
		sc := c.SecurityContext
		switch {
		case sc == nil:
			t.Errorf("%s: no security context", c.Name)
		case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem,
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation,
			sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot,
			sc.RunAsUser == nil || *sc.RunAsUser == 0,
			sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL"):
			t.Errorf("%s: security context is not non-root, read-only, without privilege escalation and capabilities", c.Name)
		}
		for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, lim := c.Resources.Requests[res], c.Resources.Limits[res]
			if req.IsZero() || lim.IsZero() || req.Cmp(lim) > 0 {
				t.Errorf("%s: %s request %s and limit %s: both needed, request ≤ limit", c.Name, res, req.String(), lim.String())
			}
		}
	}

	env := r.env(t, pod, c)
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	hasPort := func(port string) bool {
		for _, p := range c.Ports {
			if strconv.Itoa(int(p.ContainerPort)) == port {
				return true
			}
		}
		return false
	}
	// Every variable the binary reads is set; listen ports are declared.
	for _, v := range binaryVars(t, b) {
		val, ok := env[v]
		if !ok {
			t.Errorf("%s is not set", v)
			continue
		}
		if requiredVar(b, v) && val == "" {
			t.Errorf("%s is empty", v)
		}
		if listenVar(v) && val != "" {
			_, port, err := net.SplitHostPort(val)
			if err != nil || !hasPort(port) {
				t.Errorf("%s=%q: not a declared container port", v, val)
			}
		}
		if peer, ok := peerVar(v); ok {
			r.checkPeerAddr(t, v, val, peer)
		}
		// Key material comes from Secrets, by reference.
		if secretFile(v) && val != "" && !secretMounted(pod, c, val) {
			t.Errorf("%s=%s is not in a volume mounted from a Secret", v, val)
		}
		if secretValue(v) && val != "" && !strings.HasPrefix(val, "secret:") {
			t.Errorf("%s is set, but not from a Secret", v)
		}
	}
	if v, ok := env["OTEL_EXPORTER_OTLP_ENDPOINT"]; !ok || v == "" {
		t.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT is not set")
	}
	if r.name == "prod" {
		want := []string{"TIA_TLS_CERT", "TIA_TLS_KEY", "TIA_TLS_CA"}
		if b == gateway {
			want = append(want, "TIA_TLS_CLIENT_CERT", "TIA_TLS_CLIENT_KEY")
		}
		for _, v := range want {
			if env[v] == "" {
				t.Errorf("prod: %s is empty: no (mutual) TLS", v)
			}
		}
	}

	// Probes: gRPC health on the health port for services, /readyz for the gateway.
	if b == gateway {
		for name, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
			if p == nil || p.HTTPGet == nil {
				t.Errorf("no HTTP %s probe", name)
				continue
			}
			if r.name == "prod" && p.HTTPGet.Scheme != corev1.URISchemeHTTPS {
				t.Errorf("prod: %s probe is not HTTPS while the edge serves TLS", name)
			}
		}
		if c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			t.Errorf("readiness probe asks %s, want /readyz", c.ReadinessProbe.HTTPGet.Path)
		}
		// Liveness must not follow the services: a backend outage would
		// restart every gateway pod.
		if c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil && c.LivenessProbe.HTTPGet.Path != "/healthz" {
			t.Errorf("liveness probe asks %s, want /healthz", c.LivenessProbe.HTTPGet.Path)
		}
	} else {
		_, healthPort, _ := net.SplitHostPort(env["TIA_HEALTH_ADDR"])
		for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
			if p == nil || p.GRPC == nil {
				t.Errorf("no gRPC %s probe", name)
			} else if strconv.Itoa(int(p.GRPC.Port)) != healthPort {
				t.Errorf("%s probe on port %d, but TIA_HEALTH_ADDR is %q", name, p.GRPC.Port, env["TIA_HEALTH_ADDR"])
			}
		}
		// Distinct checks (app.Liveness): liveness and startup ask whether
		// the process works, readiness whether it can serve.
		service := func(p *corev1.Probe) string {
			if p == nil || p.GRPC == nil || p.GRPC.Service == nil {
				return ""
			}
			return *p.GRPC.Service
		}
		if got := service(c.LivenessProbe); got != app.Liveness {
			t.Errorf("liveness probe asks %q, want %q (dependencies must not restart pods)", got, app.Liveness)
		}
		if got := service(c.StartupProbe); got != app.Liveness {
			t.Errorf("startup probe asks %q, want %q", got, app.Liveness)
		}
		if got := service(c.ReadinessProbe); got != "" {
			t.Errorf("readiness probe asks %q, want the whole server (\"\")", got)
		}
		// Migrations run before the new version serves: an init container
		// of the same image with -migrate-only on the same database.
		var migrate *corev1.Container
		for i, ic := range pod.Spec.InitContainers {
			if slices.Contains(ic.Args, "-migrate-only") {
				migrate = &pod.Spec.InitContainers[i]
			}
		}
		if migrate == nil {
			t.Errorf("no init container running -migrate-only")
		} else {
			if migrate.Image != c.Image {
				t.Errorf("migrations run image %s, the service %s", migrate.Image, c.Image)
			}
			menv := r.env(t, pod, *migrate)
			if menv["TIA_DATABASE_DSN"] == "" || menv["TIA_DATABASE_DSN"] != env["TIA_DATABASE_DSN"] {
				t.Errorf("migrations and the service use different databases")
			}
		}
		if !strings.HasPrefix(env["TIA_DATABASE_DSN"], "secret:") {
			t.Errorf("TIA_DATABASE_DSN does not come from a Secret")
		}
		if d.Spec.Strategy.RollingUpdate == nil || d.Spec.Strategy.RollingUpdate.MaxUnavailable == nil ||
			d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0 {
			t.Errorf("a rolling update may take serving instances away before new ones are ready")
		}
	}

	// A Service selecting the pods, with ports the container declares.
	svc, ok := r.services[b]
	if !ok {
		t.Errorf("no Service %s", b)
	} else {
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) || len(svc.Spec.Selector) == 0 {
			t.Errorf("Service %s does not select the pods", b)
		}
		for _, p := range svc.Spec.Ports {
			if p.TargetPort.Type == intstr.String {
				if _, ok := ports[p.TargetPort.StrVal]; !ok {
					t.Errorf("Service port %s targets an undeclared container port %s", p.Name, p.TargetPort.StrVal)
				}
			}
		}
		if b != gateway && svc.Spec.ClusterIP != corev1.ClusterIPNone {
			t.Errorf("Service %s is not headless: callers could not balance over its pods", b)
		}
	}

	// Scaling and disruption.
	hpa, ok := r.hpas[b]
	if !ok {
		t.Errorf("no HorizontalPodAutoscaler %s", b)
	} else {
		ref := hpa.Spec.ScaleTargetRef
		if ref.Kind != "Deployment" || ref.Name != b || ref.APIVersion != "apps/v1" {
			t.Errorf("the autoscaler scales %v", ref)
		}
		if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas > hpa.Spec.MaxReplicas || len(hpa.Spec.Metrics) == 0 {
			t.Errorf("autoscaler bounds or metrics missing")
		}
		if r.name == "prod" && *hpa.Spec.MinReplicas < 2 {
			t.Errorf("prod: fewer than two replicas")
		}
	}
	pdb, ok := r.pdbs[b]
	if !ok {
		t.Errorf("no PodDisruptionBudget %s", b)
	} else {
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(pod.Labels)) {
			t.Errorf("the disruption budget does not select the pods")
		}
		if hpa != nil && hpa.Spec.MinReplicas != nil && pdb.Spec.MinAvailable != nil &&
			pdb.Spec.MinAvailable.IntValue() >= int(*hpa.Spec.MinReplicas) {
			t.Errorf("minAvailable %s ≥ minReplicas %d blocks every drain", pdb.Spec.MinAvailable.String(), *hpa.Spec.MinReplicas)
		}
	}
}

// env resolves the environment of a container: literal values, ConfigMap
// keys (which must exist in the render) and Secret keys (as "secret:name/key").
func (r *rendered) env(t *testing.T, pod *corev1.PodTemplateSpec, c corev1.Container) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			t.Errorf("%s: envFrom other than a ConfigMap", c.Name)
			continue
		}
		cm, ok := r.configMaps[from.ConfigMapRef.Name]
		if !ok {
			t.Errorf("%s: ConfigMap %s is not rendered", c.Name, from.ConfigMapRef.Name)
			continue
		}
		for k, v := range cm.Data {
			env[from.Prefix+k] = v
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			cm, ok := r.configMaps[ref.Name]
			if !ok {
				t.Errorf("%s: %s: ConfigMap %s is not rendered", c.Name, e.Name, ref.Name)
				continue
			}
			v, ok := cm.Data[ref.Key]
			if !ok {
				t.Errorf("%s: %s: ConfigMap %s has no key %s", c.Name, e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = v
		case e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = "secret:" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		default:
			env[e.Name] = "fieldref"
		}
	}
	return env
}

// checkPeerAddr: a service address is a gRPC dns:/// target naming a
// headless Service of that service on a port it exposes.
func (r *rendered) checkPeerAddr(t *testing.T, v, val, peer string) {
	t.Helper()
	target, ok := strings.CutPrefix(val, "dns:///")
	if !ok {
		t.Errorf("%s=%q: not a dns:/// target (client-side balancing needs every pod's address)", v, val)
		return
	}
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		t.Errorf("%s=%q: %v", v, val, err)
		return
	}
	svc, ok := r.services[strings.Split(host, ".")[0]]
	if !ok || svc.Name != peer {
		t.Errorf("%s=%q: no Service %s", v, val, peer)
		return
	}
	for _, p := range svc.Spec.Ports {
		if strconv.Itoa(int(p.Port)) == port && p.Name == "grpc" {
			return
		}
	}
	t.Errorf("%s=%q: Service %s has no grpc port %s", v, val, peer, port)
}

// secretMounted reports whether path lies in a volume mounted from a Secret.
func secretMounted(pod *corev1.PodTemplateSpec, c corev1.Container, path string) bool {
	for _, m := range c.VolumeMounts {
		if !strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/") {
			continue
		}
		for _, v := range pod.Spec.Volumes {
			if v.Name == m.Name && v.Secret != nil {
				return true
			}
		}
	}
	return false
}

// source is where a connection comes from, for the NetworkPolicy check.
type source struct {
	desc      string
	outside   bool              // from outside the cluster
	podLabels map[string]string // a pod in the same namespace
	nsLabels  map[string]string // or a pod in another namespace with these labels
}

// admits evaluates the NetworkPolicies of the namespace for a connection to
// a pod with dst labels on port, as the Kubernetes semantics define it: a
// pod selected by no ingress policy accepts everything; otherwise the union
// of the selecting policies' rules applies.
func (r *rendered) admits(dst map[string]string, port int32, src source) bool {
	selected := false
	for _, p := range r.policies {
		sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
		if err != nil || !sel.Matches(labels.Set(dst)) {
			continue
		}
		if len(p.Spec.PolicyTypes) > 0 && !slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
			continue
		}
		selected = true
		for _, rule := range p.Spec.Ingress {
			if portMatches(rule.Ports, port) && peerMatches(rule.From, src) {
				return true
			}
		}
	}
	return !selected
}

func portMatches(ports []networkingv1.NetworkPolicyPort, port int32) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if p.Port == nil || p.Port.IntValue() == int(port) {
			return true
		}
	}
	return false
}

func peerMatches(from []networkingv1.NetworkPolicyPeer, src source) bool {
	if len(from) == 0 {
		return true
	}
	for _, peer := range from {
		switch {
		case peer.IPBlock != nil:
			if src.outside {
				return true
			}
		case peer.NamespaceSelector != nil:
			if src.nsLabels == nil {
				continue
			}
			ns, err := metav1.LabelSelectorAsSelector(peer.NamespaceSelector)
			if err != nil || !ns.Matches(labels.Set(src.nsLabels)) {
				continue
			}
			if peer.PodSelector == nil {
				return true
			}
			ps, err := metav1.LabelSelectorAsSelector(peer.PodSelector)
			if err == nil && ps.Matches(labels.Set(src.podLabels)) {
				return true
			}
		case peer.PodSelector != nil:
			if src.podLabels == nil || src.nsLabels != nil || src.outside {
				continue
			}
			ps, err := metav1.LabelSelectorAsSelector(peer.PodSelector)
			if err == nil && ps.Matches(labels.Set(src.podLabels)) {
				return true
			}
		}
	}
	return false
}

func (r *rendered) checkNetworkPolicies(t *testing.T) {
	podLabels := func(name string) map[string]string {
		if d, ok := r.deployments[name]; ok {
			return d.Spec.Template.Labels
		}
		t.Fatalf("no Deployment %s", name)
		return nil
	}
	outside := source{desc: "outside the cluster", outside: true}
	otherNS := source{desc: "a pod of another namespace", podLabels: map[string]string{"app": "x"}, nsLabels: map[string]string{"kubernetes.io/metadata.name": "other"}}
	stranger := source{desc: "another pod of the namespace", podLabels: map[string]string{"app.kubernetes.io/name": "stranger"}}

	gwPort := r.deployments[gateway].Spec.Template.Spec.Containers[0].Ports[0].ContainerPort
	if !r.admits(podLabels(gateway), gwPort, outside) {
		t.Errorf("the gateway is not reachable from outside on %d", gwPort)
	}
	// Callers named by the binaries (peers in main.go) and the architecture.
	callers := map[string][]string{}
	for _, s := range services {
		for _, p := range peersOf(t, s) {
			callers[p] = append(callers[p], s)
		}
	}
	for _, s := range services {
		dst := podLabels(s)
		var grpcPort int32
		for _, p := range r.deployments[s].Spec.Template.Spec.Containers[0].Ports {
			if p.Name == "grpc" {
				grpcPort = p.ContainerPort
			}
		}
		named := append([]string{gateway}, callers[s]...)
		allowed := append(append([]string(nil), named...), architectureCallers[s]...)
		for _, src := range []source{outside, otherNS, stranger} {
			if r.admits(dst, grpcPort, src) {
				t.Errorf("%s's API is reachable from %s", s, src.desc)
			}
		}
		for _, c := range append(append([]string(nil), services...), gateway) {
			ok := r.admits(dst, grpcPort, source{desc: c, podLabels: podLabels(c)})
			switch {
			case slices.Contains(named, c) && !ok:
				t.Errorf("%s cannot reach %s, which it calls", c, s)
			case !slices.Contains(allowed, c) && ok && c != s:
				t.Errorf("%s reaches %s without being a named caller", c, s)
			}
		}
	}
}
