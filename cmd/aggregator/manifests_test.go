package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/lmn/aggregator/httpapi"
	"github.com/lmn/aggregator/sources/glovis"
)

const manifestsDir = "../../deploy/kubernetes"

// kustomization is the part of kustomize's Kustomization the manifests use;
// decoded strictly, a field it does not list fails the test.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace,omitempty"`
	Resources  []string `json:"resources"`
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors"`
	} `json:"labels,omitempty"`
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
	} `json:"images,omitempty"`
	Patches []struct {
		Path string `json:"path"`
	} `json:"patches,omitempty"`
}

// manifests decodes every YAML file under deploy/kubernetes strictly into
// the Kubernetes API type its kind names: an unknown field, or a kind with
// no type here, fails.
type manifests struct {
	deployments  []*appsv1.Deployment
	statefulSets []*appsv1.StatefulSet
	services     []*corev1.Service
	pdbs         []*policyv1.PodDisruptionBudget
	hpas         []*autoscalingv2.HorizontalPodAutoscaler
	policies     []*networkingv1.NetworkPolicy
	kinds        map[string]int
	files        []string
	images       []string // the names overlays replace
}

func loadManifests(t *testing.T) *manifests {
	t.Helper()
	m := &manifests{kinds: map[string]int{}}
	err := filepath.WalkDir(manifestsDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		require.True(t, strings.HasSuffix(path, ".yaml"), "%s: only .yaml files here", path)
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		m.files = append(m.files, path)
		for i, doc := range bytes.Split(raw, []byte("\n---\n")) {
			var head struct {
				Kind string `json:"kind"`
			}
			require.NoError(t, yaml.Unmarshal(doc, &head), "%s #%d", path, i)
			where := fmt.Sprintf("%s #%d (%s)", path, i, head.Kind)
			var into any
			switch head.Kind {
			case "Kustomization":
				k := &kustomization{}
				into = k
				defer func() {
					checkKustomization(t, path, k)
					for _, im := range k.Images {
						m.images = append(m.images, im.Name)
					}
				}()
			case "Deployment":
				o := &appsv1.Deployment{}
				m.deployments, into = append(m.deployments, o), o
			case "StatefulSet":
				o := &appsv1.StatefulSet{}
				m.statefulSets, into = append(m.statefulSets, o), o
			case "Service":
				o := &corev1.Service{}
				m.services, into = append(m.services, o), o
			case "PodDisruptionBudget":
				o := &policyv1.PodDisruptionBudget{}
				m.pdbs, into = append(m.pdbs, o), o
			case "HorizontalPodAutoscaler":
				o := &autoscalingv2.HorizontalPodAutoscaler{}
				m.hpas, into = append(m.hpas, o), o
			case "NetworkPolicy":
				o := &networkingv1.NetworkPolicy{}
				m.policies, into = append(m.policies, o), o
			case "ServiceAccount":
				into = &corev1.ServiceAccount{}
			case "Namespace":
				into = &corev1.Namespace{}
			default:
				t.Fatalf("%s: no API type for kind %q in this test", where, head.Kind)
			}
			require.NoError(t, yaml.UnmarshalStrict(doc, into), where)
			m.kinds[head.Kind]++
		}
		return nil
	})
	require.NoError(t, err)
	return m
}

// checkKustomization: every resource and patch it names exists.
func checkKustomization(t *testing.T, path string, k *kustomization) {
	t.Helper()
	assert.Equal(t, "kustomize.config.k8s.io/v1beta1", k.APIVersion, path)
	dir := filepath.Dir(path)
	for _, r := range k.Resources {
		_, err := os.Stat(filepath.Join(dir, r))
		assert.NoError(t, err, "%s names resource %s", path, r)
	}
	for _, p := range k.Patches {
		_, err := os.Stat(filepath.Join(dir, p.Path))
		assert.NoError(t, err, "%s names patch %s", path, p.Path)
	}
}

// TestManifestsMatchTheBinary decodes every manifest with the real API
// types and holds the aggregator's Deployment to what serve does: its flags
// and environment parse with serve's own flag set, the ports are the
// addresses serve listens on, the probes' paths are served on the health
// address without a token, the image is the one deploy/image/build makes
// and runs as the Containerfile's user, locked down.
func TestManifestsMatchTheBinary(t *testing.T) {
	m := loadManifests(t)
	for _, kind := range []string{"Kustomization", "Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler",
		"NetworkPolicy", "StatefulSet"} {
		assert.NotZero(t, m.kinds[kind], "no %s", kind)
	}
	require.Len(t, m.deployments, 1)
	d := m.deployments[0]
	require.Len(t, d.Spec.Template.Spec.Containers, 1)
	c := d.Spec.Template.Spec.Containers[0]

	// Flags and environment, through serve's own parsing.
	require.NotEmpty(t, c.Args)
	require.Equal(t, "serve", c.Args[0], "the image's entrypoint is the binary; the first argument is the command")
	env := map[string]string{}
	_, known := flags(flag.NewFlagSet("serve", flag.ContinueOnError))
	knownEnv := map[string]bool{"GOMEMLIMIT": true}
	for _, e := range known {
		knownEnv[e] = true
	}
	for _, e := range c.Env {
		assert.True(t, knownEnv[e.Name] || strings.HasPrefix(e.Name, "OTEL_"), "%s is no variable serve reads", e.Name)
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			// What a Secret would hold: values of the right shape.
			env[e.Name] = map[string]string{"LMN_CURSOR_SECRETS": "0123456789abcdef0123456789abcdef",
				"LMN_REDIS_URL": "redis://aggregator-redis:6379/0", "LMN_ADMIN_TOKEN": "0123456789abcdef0123456789abcdef"}[e.Name]
		default:
			env[e.Name] = e.Value
		}
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	cfg, err := parseConfig(fs, c.Args[1:], func(k string) string { return env[k] })
	require.NoError(t, err, "serve refuses the Deployment's arguments %q", c.Args)

	// Ports: each named container port is the port of the address serve
	// listens on for it.
	port := func(addr string) int32 {
		_, p, err := net.SplitHostPort(addr)
		require.NoError(t, err, addr)
		var n int32
		fmt.Sscan(p, &n)
		return n
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	assert.Equal(t, map[string]int32{"http": port(cfg.addr), "health": port(cfg.healthAddr), "metrics": port(cfg.metricsAddr)}, ports)
	assert.True(t, loopback(cfg.adminAddr), "the admin listener stays on loopback in the pod")
	assert.Equal(t, fmt.Sprint(ports["metrics"]), d.Spec.Template.Annotations["prometheus.io/port"])

	// Probes: on the health address, at paths it serves without a token.
	health := httpapi.NewHealth(httpapi.AdminDeps{Auctions: []httpapi.AuctionState{&glovis.Auction{Crawler: &glovis.Crawler{Store: &glovis.Store{}}}}})
	for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		require.NotNil(t, p, "%s probe", name)
		require.NotNil(t, p.HTTPGet, "%s probe is an HTTP GET", name)
		assert.Equal(t, "health", p.HTTPGet.Port.String(), "%s probe on the health address", name)
		rec := httptest.NewRecorder()
		health.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p.HTTPGet.Path, nil))
		assert.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, rec.Code, "%s probe's path %s", name, p.HTTPGet.Path)
	}
	assert.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path, "liveness never waits for the index")
	assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)
	grace := d.Spec.Template.Spec.TerminationGracePeriodSeconds
	require.NotNil(t, grace)
	assert.Greater(t, float64(*grace), cfg.shutdownGrace.Seconds(), "the kubelet waits longer than serve's own grace")

	// The image: the name deploy/image/build gives it.
	script, err := os.ReadFile("../../deploy/image/build")
	require.NoError(t, err)
	built := regexp.MustCompile(`(?m)^IMAGE=\$\{IMAGE:-([^}]+)\}$`).FindSubmatch(script)
	require.NotNil(t, built, "deploy/image/build names no default image")
	repo, _, _ := strings.Cut(c.Image, ":")
	assert.Equal(t, string(built[1]), repo)
	require.NotEmpty(t, m.images, "the example overlay swaps in a registry's image")
	for _, name := range m.images {
		assert.Equal(t, repo, name, "an overlay's images: entry names the base's image, or it replaces nothing")
	}

	// Locked down, as the Containerfile's user.
	containerfile, err := os.ReadFile("../../Containerfile")
	require.NoError(t, err)
	user := regexp.MustCompile(`(?m)^USER (\d+):(\d+)$`).FindSubmatch(containerfile)
	require.NotNil(t, user)
	pod := d.Spec.Template.Spec.SecurityContext
	require.NotNil(t, pod)
	assert.Equal(t, string(user[1]), fmt.Sprint(*pod.RunAsUser))
	assert.Equal(t, string(user[2]), fmt.Sprint(*pod.RunAsGroup))
	assert.True(t, *pod.RunAsNonRoot)
	sc := c.SecurityContext
	require.NotNil(t, sc)
	assert.True(t, *sc.ReadOnlyRootFilesystem)
	assert.False(t, *sc.AllowPrivilegeEscalation)
	assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
	assert.Empty(t, sc.Capabilities.Add)
	assert.False(t, *d.Spec.Template.Spec.AutomountServiceAccountToken)

	// Writable paths are volumes: the snapshot's directory.
	mounted := func(path string) bool {
		for _, v := range c.VolumeMounts {
			if strings.HasPrefix(path, v.MountPath+"/") {
				return !v.ReadOnly
			}
		}
		return false
	}
	assert.True(t, mounted(cfg.snapshot), "-snapshot %s is on a writable volume", cfg.snapshot)

	// Memory: GOMEMLIMIT under the limit.
	limit := c.Resources.Limits[corev1.ResourceMemory]
	require.False(t, limit.IsZero(), "a memory limit")
	soft, err := resource.ParseQuantity(strings.TrimSuffix(env["GOMEMLIMIT"], "B"))
	require.NoError(t, err, "GOMEMLIMIT %q", env["GOMEMLIMIT"])
	assert.Less(t, soft.Value(), limit.Value(), "GOMEMLIMIT under the memory limit")
	assert.Greater(t, soft.Value(), limit.Value()*8/10, "but not far under")
	assert.False(t, c.Resources.Requests.Cpu().IsZero(), "a CPU request: the autoscaler's utilisation is of it")

	// Everything aimed at the Deployment's pods selects them.
	podLabels := d.Spec.Template.Labels
	selects := func(sel map[string]string) bool {
		for k, v := range sel {
			if podLabels[k] != v {
				return false
			}
		}
		return len(sel) > 0
	}
	assert.True(t, selects(d.Spec.Selector.MatchLabels))
	var svc *corev1.Service
	for _, s := range m.services {
		if selects(s.Spec.Selector) {
			svc = s
		}
	}
	require.NotNil(t, svc, "a Service selects the aggregator")
	for _, p := range svc.Spec.Ports {
		assert.Contains(t, ports, p.TargetPort.String(), "Service port %s targets a container port", p.Name)
	}
	require.Len(t, m.pdbs, 1)
	assert.True(t, selects(m.pdbs[0].Spec.Selector.MatchLabels))
	var hpa *autoscalingv2.HorizontalPodAutoscaler
	for _, h := range m.hpas {
		if h.Spec.ScaleTargetRef.Name != "" {
			hpa = h
		}
	}
	require.NotNil(t, hpa)
	assert.Equal(t, autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name}, hpa.Spec.ScaleTargetRef)
	var open []string
	for _, np := range m.policies {
		if !selects(np.Spec.PodSelector.MatchLabels) {
			continue
		}
		assert.ElementsMatch(t, []networkingv1.PolicyType{"Ingress", "Egress"}, np.Spec.PolicyTypes)
		for _, in := range np.Spec.Ingress {
			for _, p := range in.Ports {
				open = append(open, p.Port.String())
			}
		}
	}
	slices.Sort(open)
	assert.Equal(t, []string{"health", "http", "metrics"}, open, "the NetworkPolicy lets in the API, the probes and the scrapes, nothing else")

	// Redis in the cluster is what LMN_REDIS_URL's example names.
	require.Len(t, m.statefulSets, 1)
	redis := m.statefulSets[0]
	var redisSvc *corev1.Service
	for _, s := range m.services {
		if s.Name == redis.Spec.ServiceName {
			redisSvc = s
		}
	}
	require.NotNil(t, redisSvc, "the StatefulSet's Service")
	assert.Equal(t, int32(6379), redisSvc.Spec.Ports[0].Port)
	t.Logf("%d manifests in %d files: %v", len(m.files), len(m.files), m.kinds)
}
