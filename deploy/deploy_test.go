// Package deploy_test keeps the deployment files true to the code: the
// Dockerfile, systemd unit, Kubernetes manifests and Prometheus rules.
package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/qemgate/qemgate/config"
)

const (
	kubeDir       = "kubernetes"
	promDir       = "prometheus"
	unitPath      = "systemd/qemgate.service"
	envExample    = "systemd/qemgate.env.example"
	dockerfile    = "../Dockerfile"
	dockerignore  = "../.dockerignore"
	exampleConfig = "qemgate.example.yaml"
	configPath    = "/etc/qemgate/qemgate.yaml"
)

// --- Kubernetes ------------------------------------------------------------

type objectMeta struct {
	Name      string            `yaml:"name"`
	Namespace string            `yaml:"namespace"`
	Labels    map[string]string `yaml:"labels"`
}

// object is one YAML document of a manifest, kept as a node so that it can be
// decoded again into the type its kind calls for.
type object struct {
	File       string
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   objectMeta `yaml:"metadata"`
	node       *yaml.Node
}

type deployment struct {
	Spec struct {
		Replicas int `yaml:"replicas"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata objectMeta `yaml:"metadata"`
			Spec     podSpec    `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type podSpec struct {
	AutomountServiceAccountToken  *bool `yaml:"automountServiceAccountToken"`
	TerminationGracePeriodSeconds int   `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               struct {
		RunAsNonRoot *bool  `yaml:"runAsNonRoot"`
		RunAsUser    *int64 `yaml:"runAsUser"`
	} `yaml:"securityContext"`
	Containers []container `yaml:"containers"`
	Volumes    []volume    `yaml:"volumes"`
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env       []envVar `yaml:"env"`
	Lifecycle struct {
		PreStop struct {
			Sleep *struct {
				Seconds int `yaml:"seconds"`
			} `yaml:"sleep"`
		} `yaml:"preStop"`
	} `yaml:"lifecycle"`
	StartupProbe    *probe `yaml:"startupProbe"`
	LivenessProbe   *probe `yaml:"livenessProbe"`
	ReadinessProbe  *probe `yaml:"readinessProbe"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		RunAsNonRoot             *bool `yaml:"runAsNonRoot"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		SubPath   string `yaml:"subPath"`
	} `yaml:"volumeMounts"`
}

type envVar struct {
	Name      string `yaml:"name"`
	Value     string `yaml:"value"`
	ValueFrom *struct {
		SecretKeyRef *struct {
			Name string `yaml:"name"`
			Key  string `yaml:"key"`
		} `yaml:"secretKeyRef"`
	} `yaml:"valueFrom"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"` // a number or a port name
	} `yaml:"httpGet"`
	PeriodSeconds    int `yaml:"periodSeconds"`
	FailureThreshold int `yaml:"failureThreshold"`
}

type volume struct {
	Name      string `yaml:"name"`
	ConfigMap *struct {
		Name     string `yaml:"name"`
		Optional bool   `yaml:"optional"`
	} `yaml:"configMap"`
	Secret *struct {
		SecretName string `yaml:"secretName"`
		Items      []struct {
			Key  string `yaml:"key"`
			Path string `yaml:"path"`
		} `yaml:"items"`
	} `yaml:"secret"`
	EmptyDir *struct{} `yaml:"emptyDir"`
}

type service struct {
	Spec struct {
		Selector map[string]string `yaml:"selector"`
		Ports    []struct {
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type pdb struct {
	Spec struct {
		MinAvailable *int `yaml:"minAvailable"`
		Selector     struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
	} `yaml:"spec"`
}

type secretObject struct {
	StringData map[string]string `yaml:"stringData"`
}

// yamlDocs decodes every document of a (multi-document) YAML file.
func yamlDocs(t *testing.T, path string) []*yaml.Node {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs
		}
		require.NoError(t, err, "parse %s", path)
		if len(n.Content) > 0 && n.Content[0].Kind != 0 && !(n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null") {
			docs = append(docs, &n)
		}
	}
}

func yamlFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.NotEmpty(t, files, "no YAML in %s", dir)
	slices.Sort(files)
	return files
}

// kubeObjects returns every object of deploy/kubernetes, kustomization and
// example/ (the placeholder Secret, kept out of `kubectl apply -f`) included.
func kubeObjects(t *testing.T) []object {
	t.Helper()
	var objs []object
	for _, f := range append(yamlFiles(t, kubeDir), yamlFiles(t, filepath.Join(kubeDir, "example"))...) {
		for _, n := range yamlDocs(t, f) {
			var o object
			require.NoError(t, n.Decode(&o), f)
			require.NotEmpty(t, o.Kind, "%s: a document without kind", f)
			o.File, o.node = f, n
			objs = append(objs, o)
		}
	}
	return objs
}

// decodeObject decodes the single object of a kind and name into T.
func decodeObject[T any](t *testing.T, kind, name string) T {
	t.Helper()
	var found []object
	for _, o := range kubeObjects(t) {
		if o.Kind == kind && o.Metadata.Name == name {
			found = append(found, o)
		}
	}
	require.Len(t, found, 1, "%s %q", kind, name)
	var v T
	require.NoError(t, found[0].node.Decode(&v), "%s %s", kind, name)
	return v
}

func qemgateContainer(t *testing.T) (deployment, container) {
	t.Helper()
	d := decodeObject[deployment](t, "Deployment", "qemgate")
	require.Len(t, d.Spec.Template.Spec.Containers, 1)
	return d, d.Spec.Template.Spec.Containers[0]
}

// containerPort resolves a probe or Service port (a number or a port name).
func containerPort(t *testing.T, c container, port string) int {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == port || strconv.Itoa(p.ContainerPort) == port {
			return p.ContainerPort
		}
	}
	require.Failf(t, "unknown port", "port %q is not a port of container %s", port, c.Name)
	return 0
}

func listenPort(t *testing.T, listen string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(listen)
	require.NoError(t, err, listen)
	n, err := strconv.Atoi(p)
	require.NoError(t, err, listen)
	return n
}

func documentedEnv() map[string]bool {
	out := map[string]bool{}
	for _, v := range config.EnvVars() {
		out[v[0]] = true
	}
	return out
}

// podEnv is the environment the container sees: the image's ENV, then the
// Deployment's env, with secrets resolved to placeholders from
// example/secret.yaml and *_FILE paths redirected to temporary files.
func podEnv(t *testing.T) map[string]string {
	t.Helper()
	_, c := qemgateContainer(t)
	secret := decodeObject[secretObject](t, "Secret", "qemgate")
	env := map[string]string{}
	for k, v := range dockerEnv(t) {
		env[k] = v
	}
	tmp := t.TempDir()
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			v, ok := secret.StringData[e.ValueFrom.SecretKeyRef.Key]
			require.True(t, ok, "%s: key %q is not in example/secret.yaml", e.Name, e.ValueFrom.SecretKeyRef.Key)
			env[e.Name] = v
		case strings.HasSuffix(e.Name, "_FILE"):
			v, ok := secret.StringData[filepath.Base(e.Value)]
			require.True(t, ok, "%s: %s is not a key of example/secret.yaml", e.Name, filepath.Base(e.Value))
			p := filepath.Join(tmp, filepath.Base(e.Value))
			require.NoError(t, os.WriteFile(p, []byte(v), 0o600))
			env[e.Name] = p
		default:
			env[e.Name] = e.Value
		}
	}
	return env
}

func getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// configMapConfig writes the ConfigMap's qemgate.yaml to a file.
func configMapConfig(t *testing.T) string {
	t.Helper()
	cm := decodeObject[struct {
		Data map[string]string `yaml:"data"`
	}](t, "ConfigMap", "qemgate-config")
	body, ok := cm.Data["qemgate.yaml"]
	require.True(t, ok, "ConfigMap qemgate-config has no qemgate.yaml")
	p := filepath.Join(t.TempDir(), "qemgate.yaml")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	t.Parallel()
	var k struct {
		Resources []string `yaml:"resources"`
		Images    []struct {
			Name string `yaml:"name"`
		} `yaml:"images"`
	}
	docs := yamlDocs(t, filepath.Join(kubeDir, "kustomization.yaml"))
	require.Len(t, docs, 1)
	require.NoError(t, docs[0].Decode(&k))

	var want []string
	for _, f := range yamlFiles(t, kubeDir) {
		base := filepath.Base(f)
		if base != "kustomization.yaml" {
			want = append(want, base)
		}
	}
	got := slices.Clone(k.Resources)
	slices.Sort(got)
	require.Equal(t, want, got)

	for _, o := range kubeObjects(t) {
		if filepath.Dir(o.File) == kubeDir {
			require.NotEqual(t, "Secret", o.Kind, "%s: `kubectl apply -f` would overwrite the real Secret", o.File)
		}
	}

	_, c := qemgateContainer(t)
	require.Len(t, k.Images, 1)
	require.Equal(t, c.Image, k.Images[0].Name, "the images: entry must rewrite the Deployment's image")
}

func TestManifestsAreNamespaceAgnostic(t *testing.T) {
	t.Parallel()
	for _, o := range kubeObjects(t) {
		require.Empty(t, o.Metadata.Namespace, "%s %s in %s", o.Kind, o.Metadata.Name, o.File)
		require.NotEmpty(t, o.APIVersion, "%s in %s", o.Kind, o.File)
	}
}

func TestDeploymentProbesAndPorts(t *testing.T) {
	t.Parallel()
	d, c := qemgateContainer(t)
	require.GreaterOrEqual(t, d.Spec.Replicas, 2, "several replicas share one database")
	require.Equal(t, d.Spec.Selector.MatchLabels, filterLabels(d.Spec.Template.Metadata.Labels, d.Spec.Selector.MatchLabels))

	listen := listenPort(t, podEnv(t)["QEMGATE_LISTEN"])
	tests := []struct {
		name string
		p    *probe
		path string
	}{
		{"startup", c.StartupProbe, "/livez"},
		{"liveness", c.LivenessProbe, "/livez"},
		{"readiness", c.ReadinessProbe, "/readyz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.NotNil(t, tt.p)
			require.NotNil(t, tt.p.HTTPGet)
			require.Equal(t, tt.path, tt.p.HTTPGet.Path)
			require.Equal(t, listen, containerPort(t, c, tt.p.HTTPGet.Port), "the probe must hit the port qemgate listens on")
		})
	}

	svc := decodeObject[service](t, "Service", "qemgate")
	require.Equal(t, svc.Spec.Selector, filterLabels(d.Spec.Template.Metadata.Labels, svc.Spec.Selector))
	require.Len(t, svc.Spec.Ports, 1)
	require.Equal(t, 80, svc.Spec.Ports[0].Port)
	require.Equal(t, listen, containerPort(t, c, svc.Spec.Ports[0].TargetPort))

	budget := decodeObject[pdb](t, "PodDisruptionBudget", "qemgate")
	require.NotNil(t, budget.Spec.MinAvailable)
	require.Less(t, *budget.Spec.MinAvailable, d.Spec.Replicas, "a drain must be able to evict one pod")
	require.Equal(t, budget.Spec.Selector.MatchLabels, filterLabels(d.Spec.Template.Metadata.Labels, budget.Spec.Selector.MatchLabels))

	require.Equal(t, dockerCmd(t), c.Args, "the Deployment runs the image's default command")
}

// filterLabels returns the labels of have that want names, so that a
// selector compares equal only if the pod carries every selected label.
func filterLabels(have, want map[string]string) map[string]string {
	out := map[string]string{}
	for k := range want {
		if v, ok := have[k]; ok {
			out[k] = v
		}
	}
	return out
}

func TestDeploymentRunsUnprivileged(t *testing.T) {
	t.Parallel()
	d, c := qemgateContainer(t)
	pod := d.Spec.Template.Spec
	require.NotNil(t, pod.SecurityContext.RunAsNonRoot)
	require.True(t, *pod.SecurityContext.RunAsNonRoot)
	require.NotNil(t, pod.SecurityContext.RunAsUser)
	require.NotZero(t, *pod.SecurityContext.RunAsUser)
	require.Equal(t, strconv.FormatInt(*pod.SecurityContext.RunAsUser, 10), strings.Split(dockerUser(t), ":")[0],
		"the pod's user is the image's user")
	require.NotNil(t, pod.AutomountServiceAccountToken)
	require.False(t, *pod.AutomountServiceAccountToken)

	sc := c.SecurityContext
	require.NotNil(t, sc.RunAsNonRoot)
	require.True(t, *sc.RunAsNonRoot)
	require.NotNil(t, sc.ReadOnlyRootFilesystem)
	require.True(t, *sc.ReadOnlyRootFilesystem)
	require.NotNil(t, sc.AllowPrivilegeEscalation)
	require.False(t, *sc.AllowPrivilegeEscalation)
	require.Equal(t, []string{"ALL"}, sc.Capabilities.Drop)
	require.NotEmpty(t, c.Resources.Requests["cpu"])
	require.NotEmpty(t, c.Resources.Requests["memory"])
	require.NotEmpty(t, c.Resources.Limits["memory"])
}

func TestDeploymentStopsWithinGracePeriod(t *testing.T) {
	t.Parallel()
	d, c := qemgateContainer(t)
	cfg, err := config.Load(configMapConfig(t), getenv(podEnv(t)))
	require.NoError(t, err)
	preStop := 0
	if s := c.Lifecycle.PreStop.Sleep; s != nil {
		preStop = s.Seconds
	}
	// serve: HTTP drain and River soft stop share shutdown_timeout, then a
	// hard stop of up to 2s.
	stop := time.Duration(preStop)*time.Second + cfg.ShutdownWait.D() + 2*time.Second
	grace := time.Duration(d.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
	require.Equal(t, 30*time.Second, grace)
	require.Less(t, stop, grace, "SIGKILL would cut the graceful stop short")
}

func TestManifestEnvVarsAreDocumented(t *testing.T) {
	t.Parallel()
	known := documentedEnv()
	_, c := qemgateContainer(t)
	var names []string
	for _, e := range c.Env {
		names = append(names, e.Name)
	}
	for name := range dockerEnv(t) {
		names = append(names, name)
	}
	unit := readUnit(t)
	for _, kv := range unit["Service.Environment"] {
		name, _, _ := strings.Cut(kv, "=")
		names = append(names, name)
	}
	for name := range readEnvExample(t, true) {
		names = append(names, name)
	}
	require.NotEmpty(t, names)
	for _, name := range names {
		require.True(t, strings.HasPrefix(name, "QEMGATE_"), "%s is not ours", name)
		require.True(t, known[name], "%s is not in config.EnvVars()", name)
	}
}

func TestSecretsAreMountedFiles(t *testing.T) {
	t.Parallel()
	d, c := qemgateContainer(t)
	mounts := map[string]string{} // mount path → volume
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	volumes := map[string]volume{}
	for _, v := range d.Spec.Template.Spec.Volumes {
		volumes[v.Name] = v
	}
	example := decodeObject[secretObject](t, "Secret", "qemgate")
	files := 0
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			require.NotNil(t, e.ValueFrom.SecretKeyRef, e.Name)
			require.Equal(t, "qemgate", e.ValueFrom.SecretKeyRef.Name, e.Name)
			require.Contains(t, example.StringData, e.ValueFrom.SecretKeyRef.Key, e.Name)
			continue
		}
		if !strings.HasSuffix(e.Name, "_FILE") {
			continue
		}
		files++
		require.True(t, strings.HasPrefix(e.Value, "/run/secrets/qemgate/"), "%s=%s", e.Name, e.Value)
		vol, ok := volumes[mounts[filepath.Dir(e.Value)]]
		require.True(t, ok, "%s: nothing is mounted at %s", e.Name, filepath.Dir(e.Value))
		require.NotNil(t, vol.Secret, "%s: %s is not a Secret volume", e.Name, filepath.Dir(e.Value))
		require.Equal(t, "qemgate", vol.Secret.SecretName)
		found := false
		for _, it := range vol.Secret.Items {
			if it.Path == filepath.Base(e.Value) {
				found = true
				require.Contains(t, example.StringData, it.Key)
			}
		}
		require.True(t, found, "%s: the Secret volume has no item %s", e.Name, filepath.Base(e.Value))
	}
	require.Equal(t, 5, files, "admin, gitea token, webhook secrets, openQA secret, callback token")
	for k, v := range example.StringData {
		require.Contains(t, v, "REPLACE-ME", "example/secret.yaml must hold placeholders only (%s)", k)
	}
}

func TestConfigMapLoadsWithThePodEnvironment(t *testing.T) {
	t.Parallel()
	d, c := qemgateContainer(t)
	path := configMapConfig(t)
	cfg, err := config.Load(path, getenv(podEnv(t)))
	require.NoError(t, err)

	require.Equal(t, ":8080", cfg.Listen)
	require.NotEmpty(t, cfg.DatabaseURL)
	require.Equal(t, "REPLACE-ME", cfg.AdminToken)
	require.Equal(t, "REPLACE-ME", cfg.Gitea.Token)
	require.Equal(t, []string{"REPLACE-ME"}, cfg.Gitea.WebhookSecrets)
	require.Equal(t, "REPLACE-ME", cfg.OpenQA.Secret)
	require.Equal(t, "REPLACE-ME", cfg.OpenQA.CallbackToken)
	require.NotEmpty(t, cfg.Gitea.Repos)
	require.True(t, strings.HasPrefix(cfg.PublicURL, "https://"))

	// The file holds no secret: without the pod's secrets none is set.
	bare, err := config.Load(path, getenv(map[string]string{
		"QEMGATE_LISTEN":       ":8080",
		"QEMGATE_DATABASE_URL": "postgres://placeholder@localhost/qemgate",
	}))
	require.NoError(t, err)
	require.Empty(t, bare.AdminToken+bare.Gitea.Token+bare.OpenQA.Secret+bare.OpenQA.CallbackToken)
	require.Empty(t, bare.Gitea.WebhookSecrets)

	mounted := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounted[m.MountPath] = m.Name
	}
	require.Equal(t, "config", mounted[configPath], "the config is mounted where the command reads it")
	require.Equal(t, "metadata", mounted[cfg.Metadata.Dir], "metadata.dir is mounted")
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == "metadata" {
			require.NotNil(t, v.ConfigMap)
			require.True(t, v.ConfigMap.Optional, "a first deployment starts before metadata is published")
		}
	}
}

// --- systemd ---------------------------------------------------------------

// readUnit returns the unit's settings as "Section.Key" → values in order.
func readUnit(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open(unitPath)
	require.NoError(t, err)
	defer f.Close()
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			require.True(t, ok, "%s: %q is not key=value", unitPath, line)
			out[section+"."+k] = append(out[section+"."+k], v)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// readEnvExample returns the variables of the example env file; with
// commented, also the ones shown commented out.
func readEnvExample(t *testing.T, commented bool) map[string]string {
	t.Helper()
	b, err := os.ReadFile(envExample)
	require.NoError(t, err)
	out := map[string]string{}
	assign := regexp.MustCompile(`^(#?)(QEMGATE_[A-Z0-9_]+)=(.*)$`)
	for _, line := range strings.Split(string(b), "\n") {
		m := assign.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil || (m[1] == "#" && !commented) {
			continue
		}
		out[m[2]] = m[3]
	}
	require.NotEmpty(t, out)
	return out
}

func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	u := readUnit(t)
	one := func(key string) string {
		t.Helper()
		require.Len(t, u[key], 1, key)
		return u[key][0]
	}
	require.Equal(t, "simple", one("Service.Type"))
	require.Equal(t, "/usr/bin/qemgate "+strings.Join(dockerCmd(t), " "), one("Service.ExecStart"))
	require.Empty(t, u["Service.ExecStartPre"], "serve migrates by itself")
	require.Equal(t, "-/etc/qemgate/qemgate.env", one("Service.EnvironmentFile"))
	require.Equal(t, "on-failure", one("Service.Restart"))
	require.Equal(t, "2", one("Service.RestartPreventExitStatus"), "exit 2 is a configuration error")

	stop, err := time.ParseDuration(one("Service.TimeoutStopSec") + "s")
	require.NoError(t, err)
	require.Greater(t, stop, config.Default().ShutdownWait.D()+2*time.Second, "systemd would SIGKILL a graceful stop")

	hardening := map[string]string{
		"DynamicUser":             "yes",
		"NoNewPrivileges":         "yes",
		"CapabilityBoundingSet":   "",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"ProtectKernelTunables":   "yes",
		"ProtectKernelModules":    "yes",
		"ProtectControlGroups":    "yes",
		"RestrictNamespaces":      "yes",
		"RestrictSUIDSGID":        "yes",
		"LockPersonality":         "yes",
		"MemoryDenyWriteExecute":  "yes",
		"SystemCallArchitectures": "native",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
	}
	for k, want := range hardening {
		require.Equal(t, want, one("Service."+k), k)
	}
	require.Contains(t, u["Service.SystemCallFilter"], "@system-service")

	// Every credential reaches the service as QEMGATE_*_FILE=%d/<name>, and
	// the other way round.
	creds := map[string]bool{}
	for _, lc := range u["Service.LoadCredential"] {
		name, src, ok := strings.Cut(lc, ":")
		require.True(t, ok, "LoadCredential=%s", lc)
		require.True(t, strings.HasPrefix(src, "/etc/qemgate/credentials/"), lc)
		creds[name] = true
	}
	fileVars := map[string]string{}
	for _, kv := range u["Service.Environment"] {
		name, v, _ := strings.Cut(kv, "=")
		if strings.HasSuffix(name, "_FILE") {
			cred, ok := strings.CutPrefix(v, "%d/")
			require.True(t, ok, "%s must point into $CREDENTIALS_DIRECTORY", kv)
			require.True(t, creds[cred], "%s: no LoadCredential=%s", name, cred)
			delete(creds, cred)
			fileVars[name] = cred
		}
	}
	require.Empty(t, creds, "credentials loaded but never passed on")
	require.Len(t, fileVars, 6)

	// The env example must not set what the unit already gives as a file:
	// config.Load refuses a value and its _FILE together.
	for name := range readEnvExample(t, true) {
		require.NotContains(t, fileVars, name+"_FILE", "%s is given as a credential", name)
	}
}

func TestSystemdSetupLoads(t *testing.T) {
	t.Parallel()
	env := readEnvExample(t, false)
	dir := t.TempDir()
	for _, kv := range readUnit(t)["Service.Environment"] {
		name, v, _ := strings.Cut(kv, "=")
		cred, ok := strings.CutPrefix(v, "%d/")
		if !ok {
			env[name] = v
			continue
		}
		content := "placeholder-" + cred
		if cred == "database-url" {
			content = "postgres://qemgate:placeholder@localhost/qemgate"
		}
		p := filepath.Join(dir, cred)
		require.NoError(t, os.WriteFile(p, []byte(content+"\n"), 0o600))
		env[name] = p
	}
	// The unit reads the annotated example once it is installed as /etc/qemgate/qemgate.yaml.
	cfg, err := config.Load(exampleConfig, getenv(env))
	require.NoError(t, err)
	require.Equal(t, "postgres://qemgate:placeholder@localhost/qemgate", cfg.DatabaseURL)
	require.Equal(t, "placeholder-gitea-token", cfg.Gitea.Token)
	require.Equal(t, []string{"placeholder-gitea-webhook-secrets"}, cfg.Gitea.WebhookSecrets)
	require.Equal(t, env["QEMGATE_PUBLIC_URL"], cfg.PublicURL)
	require.Empty(t, cfg.ServeProblems(), "the unit gives serve every secret it needs")
}

// --- Dockerfile ------------------------------------------------------------

type instruction struct {
	Cmd  string // upper case
	Args string
}

// readDockerfile returns the instructions, continuation lines joined.
func readDockerfile(t *testing.T) []instruction {
	t.Helper()
	b, err := os.ReadFile(dockerfile)
	require.NoError(t, err)
	var out []instruction
	var cur strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if s, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)})
		cur.Reset()
	}
	require.Zero(t, cur.Len(), "the Dockerfile ends inside a continuation")
	return out
}

// finalStage returns the instructions after the last FROM.
func finalStage(t *testing.T) []instruction {
	t.Helper()
	ins := readDockerfile(t)
	last := -1
	for i, in := range ins {
		if in.Cmd == "FROM" {
			last = i
		}
	}
	require.GreaterOrEqual(t, last, 0)
	return ins[last:]
}

func dockerExec(t *testing.T, cmd string) []string {
	t.Helper()
	var v []string
	for _, in := range finalStage(t) {
		if in.Cmd == cmd {
			v = nil
			require.NoError(t, json.Unmarshal([]byte(in.Args), &v), "%s must be in exec (JSON) form", cmd)
		}
	}
	require.NotEmpty(t, v, cmd)
	return v
}

func dockerCmd(t *testing.T) []string { t.Helper(); return dockerExec(t, "CMD") }

func dockerUser(t *testing.T) string {
	t.Helper()
	user := ""
	for _, in := range finalStage(t) {
		if in.Cmd == "USER" {
			user = in.Args
		}
	}
	return user
}

func dockerEnv(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, in := range finalStage(t) {
		if in.Cmd == "ENV" {
			k, v, ok := strings.Cut(in.Args, "=")
			require.True(t, ok, "ENV %s: use the KEY=value form", in.Args)
			env[k] = v
		}
	}
	return env
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	ins := readDockerfile(t)
	var froms, builds []string
	for _, in := range ins {
		switch in.Cmd {
		case "FROM":
			froms = append(froms, in.Args)
		case "RUN":
			if strings.Contains(in.Args, "go build") {
				builds = append(builds, in.Args)
			}
		}
	}
	require.Len(t, froms, 2, "a build stage and a runtime stage")
	require.Regexp(t, `golang:\$\{GO_VERSION\}-bookworm AS build$`, froms[0])
	goVersion := ""
	for _, in := range ins {
		if v, ok := strings.CutPrefix(in.Args, "GO_VERSION="); ok && in.Cmd == "ARG" {
			goVersion = v
		}
	}
	require.Equal(t, "1.26", goVersion, "the image builds with the Go of go.mod")
	require.Equal(t, "gcr.io/distroless/static-debian12:nonroot", froms[1])

	require.Len(t, builds, 1)
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w -X main.version=${VERSION}"`, "./cmd/qemgate"} {
		require.Contains(t, builds[0], want)
	}

	user := dockerUser(t)
	require.NotEmpty(t, user, "the runtime stage must set USER")
	uid, _, _ := strings.Cut(user, ":")
	n, err := strconv.Atoi(uid)
	require.NoError(t, err, "USER must be numeric so that runAsNonRoot can check it")
	require.NotZero(t, n, "USER must not be root")

	require.Equal(t, []string{"/qemgate"}, dockerExec(t, "ENTRYPOINT"))
	require.Equal(t, []string{"serve", "--config", configPath}, dockerCmd(t))

	var expose []string
	for _, in := range finalStage(t) {
		if in.Cmd == "EXPOSE" {
			expose = append(expose, in.Args)
		}
	}
	require.Equal(t, []string{strconv.Itoa(listenPort(t, dockerEnv(t)["QEMGATE_LISTEN"]))}, expose)
}

// dockerignored reports whether the build context leaves path out, following
// Docker's rules: a pattern excludes a path or any directory above it; **
// matches any number of directories.
func dockerignored(t *testing.T, patterns []string, path string) bool {
	t.Helper()
	for _, p := range patterns {
		re := regexp.MustCompile("^" + dockerPatternRegexp(p) + "$")
		for q := path; q != "." && q != "/"; q = filepath.Dir(q) {
			if re.MatchString(q) {
				return true
			}
		}
	}
	return false
}

func dockerPatternRegexp(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch {
		case strings.HasPrefix(p[i:], "**/"):
			b.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(p[i:], "**"):
			b.WriteString(".*")
			i++
		case p[i] == '*':
			b.WriteString("[^/]*")
		case p[i] == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	return b.String()
}

func TestDockerignorePatterns(t *testing.T) {
	t.Parallel()
	patterns := []string{"bin", "**/testdata", "**/*_test.go", "docs"}
	tests := []struct {
		path string
		want bool
	}{
		{"bin/qemgate", true},
		{"cmd/bin/x.go", false},
		{"testdata/fixtures/gitea/a.json", true},
		{"metadata/testdata/qem-bot/a.yml", true},
		{"config/config_test.go", true},
		{"config/config.go", false},
		{"docs", true},
		{"migrations/sql/001.sql", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, dockerignored(t, patterns, tt.path))
		})
	}
}

// TestDockerBuildContextHasTheSources checks that .dockerignore keeps every
// file `go build ./cmd/qemgate` reads, embedded SQL included, since the image
// cannot be built here.
func TestDockerBuildContextHasTheSources(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(dockerignore)
	require.NoError(t, err)
	var patterns []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		require.False(t, strings.HasPrefix(line, "!"), "exceptions are beyond this check: %s", line)
		patterns = append(patterns, strings.TrimSuffix(filepath.Clean(line), "/"))
	}

	root, err := filepath.Abs("..")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "list", "-e", "-deps", "-json=ImportPath,Dir,GoFiles,EmbedFiles,Module", "./cmd/qemgate")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())

	needed := []string{"go.mod", "go.sum"}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Dir        string
			GoFiles    []string
			EmbedFiles []string
			Module     *struct{ Path string }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		if p.Module == nil || p.Module.Path != "github.com/qemgate/qemgate" {
			continue
		}
		rel, err := filepath.Rel(root, p.Dir)
		require.NoError(t, err)
		for _, f := range append(p.GoFiles, p.EmbedFiles...) {
			needed = append(needed, filepath.ToSlash(filepath.Join(rel, f)))
		}
	}
	require.Greater(t, len(needed), 10, "go list found the sources")
	require.True(t, slices.ContainsFunc(needed, func(s string) bool { return strings.HasSuffix(s, ".sql") }), "migrations are embedded")
	for _, f := range needed {
		require.False(t, dockerignored(t, patterns, f), ".dockerignore drops %s, which the build needs", f)
	}
}

// --- Prometheus --------------------------------------------------------------

type metric struct {
	histogram bool
	labels    []string
}

// metricSources are the non-test Go files of the packages that register or
// count qemgate's metrics, parsed.
func metricSources(t *testing.T) []*ast.File {
	t.Helper()
	var files []string
	for _, dir := range []string{"handlers", "jobs", "app", "bus"} {
		more, err := filepath.Glob("../" + dir + "/*.go")
		require.NoError(t, err)
		files = append(files, more...)
	}
	fset := token.NewFileSet()
	var out []*ast.File
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		out = append(out, file)
	}
	return out
}

// metricName returns the qemgate_… name of a prometheus.NewX(prometheus.XOpts{Name: …}, …) call.
func metricName(call *ast.CallExpr) string {
	if len(call.Args) == 0 {
		return ""
	}
	opts, ok := call.Args[0].(*ast.CompositeLit)
	if !ok {
		return ""
	}
	for _, el := range opts.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		if key, ok := kv.Key.(*ast.Ident); ok && key.Name == "Name" {
			if lit, ok := kv.Value.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				name, _ := strconv.Unquote(lit.Value)
				if strings.HasPrefix(name, "qemgate_") {
					return name
				}
			}
		}
	}
	return ""
}

// countedValues returns, per metric and label, the values the code counts:
// the arguments of every X.Field.WithLabelValues(…) where Field holds that
// metric (Field: prometheus.NewX(…{Name: "qemgate_…"}, …)), when they are
// string literals, string constants, or the variable of a range over a
// []string literal. A label with an argument it cannot resolve (a variable)
// is left out: its values are unknown.
func countedValues(t *testing.T, metrics map[string]metric) map[string]map[string]map[string]bool {
	t.Helper()
	files := metricSources(t)
	fields := map[string]string{}   // struct field → metric name
	consts := map[string]string{}   // constant → its string value
	ranges := map[string][]string{} // range variable → the literals it ranges over
	for _, file := range files {
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.KeyValueExpr:
				key, ok := n.Key.(*ast.Ident)
				call, ok2 := n.Value.(*ast.CallExpr)
				if ok && ok2 {
					if name := metricName(call); name != "" {
						fields[key.Name] = name
					}
				}
			case *ast.ValueSpec:
				for i, id := range n.Names {
					if i < len(n.Values) {
						if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[id.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			case *ast.RangeStmt:
				if id, ok := n.Value.(*ast.Ident); ok {
					if vals := stringList(n.X); len(vals) > 0 {
						ranges[id.Name] = vals
					}
				}
			}
			return true
		})
	}
	out := map[string]map[string]map[string]bool{}
	unknown := map[string]bool{} // metric/label with an unresolved argument
	for _, file := range files {
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "WithLabelValues" {
				return true
			}
			recv, ok := sel.X.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			name, ok := fields[recv.Sel.Name]
			if !ok {
				return true
			}
			labels := metrics[name].labels
			for i, arg := range call.Args {
				if i >= len(labels) {
					break
				}
				var vals []string
				switch a := arg.(type) {
				case *ast.BasicLit:
					v, _ := strconv.Unquote(a.Value)
					vals = []string{v}
				case *ast.Ident:
					if v, ok := consts[a.Name]; ok {
						vals = []string{v}
					} else {
						vals = ranges[a.Name]
					}
				}
				if len(vals) == 0 {
					unknown[name+"/"+labels[i]] = true
					continue
				}
				if out[name] == nil {
					out[name] = map[string]map[string]bool{}
				}
				if out[name][labels[i]] == nil {
					out[name][labels[i]] = map[string]bool{}
				}
				for _, v := range vals {
					out[name][labels[i]][v] = true
				}
			}
			return true
		})
	}
	for key := range unknown {
		name, label, _ := strings.Cut(key, "/")
		delete(out[name], label)
	}
	require.Contains(t, out["qemgate_gitea_writes_total"]["outcome"], "failed", "the counted label values could not be read")
	return out
}

// registeredMetrics reads the metrics the handlers register: every
// prometheus.NewX(prometheus.XOpts{Name: "qemgate_…"}, []string{labels…}).
func registeredMetrics(t *testing.T) map[string]metric {
	t.Helper()
	out := map[string]metric{}
	for _, file := range metricSources(t) {
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			// prometheus.NewDesc("name", "help", []string{labels}, ...), for collectors.
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "NewDesc" && len(call.Args) >= 3 {
				if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					name, _ := strconv.Unquote(lit.Value)
					out[name] = metric{labels: stringList(call.Args[2])}
				}
				return true
			}
			name := metricName(call)
			if name == "" {
				return true
			}
			m := metric{}
			if sel, ok := call.Args[0].(*ast.CompositeLit).Type.(*ast.SelectorExpr); ok {
				m.histogram = sel.Sel.Name == "HistogramOpts"
			}
			if len(call.Args) > 1 {
				m.labels = stringList(call.Args[1])
			}
			out[name] = m
			return true
		})
	}
	require.Contains(t, out, "qemgate_http_requests_total", "the handlers' metrics could not be read")
	return out
}

// stringList reads a []string{"a", "b"} literal (the label names).
func stringList(e ast.Expr) []string {
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil
	}
	var out []string
	for _, el := range lit.Elts {
		if s, ok := el.(*ast.BasicLit); ok {
			v, _ := strconv.Unquote(s.Value)
			out = append(out, v)
		}
	}
	return out
}

// handlerConstants returns the string literals of handlers constants whose
// name starts with prefix (the outcome label values).
func handlerConstants(t *testing.T, prefix string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("../handlers/*.go")
	require.NoError(t, err)
	out := map[string]bool{}
	re := regexp.MustCompile(`\b` + prefix + `[A-Z]\w*\s*=\s*"([^"]+)"`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			out[m[1]] = true
		}
	}
	require.NotEmpty(t, out)
	return out
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func promRules(t *testing.T) []rule {
	t.Helper()
	var rules []rule
	for _, f := range yamlFiles(t, promDir) {
		if strings.HasSuffix(f, ".test.yaml") {
			continue // promtool's unit tests of the rules
		}
		for _, n := range yamlDocs(t, f) {
			var doc struct {
				Groups []struct {
					Name  string `yaml:"name"`
					Rules []rule `yaml:"rules"`
				} `yaml:"groups"`
			}
			require.NoError(t, n.Decode(&doc), f)
			require.NotEmpty(t, doc.Groups, f)
			for _, g := range doc.Groups {
				require.NotEmpty(t, g.Name, f)
				rules = append(rules, g.Rules...)
			}
		}
	}
	require.NotEmpty(t, rules)
	return rules
}

var (
	selectorRe = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}`)
	matcherRe  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"`)
	qemgateRe  = regexp.MustCompile(`\bqemgate_[a-z0-9_]+`)
	byRe       = regexp.MustCompile(`\bby\s*\(([^)]*)\)`)
	templateRe = regexp.MustCompile(`\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)`)
)

// Labels Prometheus attaches to every scraped series.
var targetLabels = map[string]bool{"job": true, "instance": true}

func TestPrometheusRulesUseExportedMetrics(t *testing.T) {
	t.Parallel()
	metrics := registeredMetrics(t)
	outcomes := handlerConstants(t, "outcome")
	counted := countedValues(t, metrics)
	routes, err := os.ReadFile("../handlers/routes.go")
	require.NoError(t, err)

	// A histogram's series carry suffixes and the le label.
	series := map[string][]string{}
	for name, m := range metrics {
		if !m.histogram {
			series[name] = m.labels
			continue
		}
		series[name+"_bucket"] = append(slices.Clone(m.labels), "le")
		series[name+"_sum"] = m.labels
		series[name+"_count"] = m.labels
	}
	series["up"] = nil // Prometheus' own, per target

	seen := map[string]bool{}
	for _, r := range promRules(t) {
		require.False(t, seen[r.Alert], "alert %s is defined twice", r.Alert)
		seen[r.Alert] = true
		t.Run(r.Alert, func(t *testing.T) {
			t.Parallel()
			require.NotEmpty(t, r.Alert, "recording rules are not expected here: %s", r.Record)
			require.NotEmpty(t, r.Expr)
			_, err := time.ParseDuration(r.For)
			require.NoError(t, err, "for: %q", r.For)
			require.Contains(t, []string{"warning", "critical"}, r.Labels["severity"])
			require.NotEmpty(t, r.Annotations["summary"])
			require.NotEmpty(t, r.Annotations["description"])

			for _, name := range qemgateRe.FindAllString(r.Expr, -1) {
				require.Contains(t, series, name, "%s is not a metric the handlers register", name)
			}
			for _, sel := range selectorRe.FindAllStringSubmatch(r.Expr, -1) {
				labels, ok := series[sel[1]]
				require.True(t, ok, "%s is not a metric qemgate exports", sel[1])
				for _, m := range matcherRe.FindAllStringSubmatch(sel[2], -1) {
					label, op, value := m[1], m[2], m[3]
					require.True(t, targetLabels[label] || slices.Contains(labels, label), "%s has no label %s", sel[1], label)
					switch {
					case (label == "outcome" || label == "result") && (op == "=" || op == "=~"):
						known := counted[sel[1]][label]
						if sel[1] == "qemgate_webhook_deliveries_total" && label == "outcome" {
							known = outcomes // passed on in a variable
						}
						require.NotEmpty(t, known, "the values of %s{%s} could not be read from the code", sel[1], label)
						for _, v := range strings.Split(value, "|") {
							require.True(t, known[v], "%s{%s=%q} is never counted", sel[1], label, v)
						}
					case label == "route" && (op == "=" || op == "!="):
						require.Contains(t, string(routes), strconv.Quote(value), "route %q is not in handlers/routes.go", value)
					case label == "job":
						require.Equal(t, "qemgate", value)
					}
				}
			}
			// A template can only name labels the expression keeps.
			var kept []string
			for _, by := range byRe.FindAllStringSubmatch(r.Expr, -1) {
				for _, l := range strings.Split(by[1], ",") {
					kept = append(kept, strings.TrimSpace(l))
				}
			}
			aggregated := regexp.MustCompile(`\b(sum|avg|min|max|count|absent)\b`).MatchString(r.Expr)
			for _, text := range r.Annotations {
				for _, m := range templateRe.FindAllStringSubmatch(text, -1) {
					if aggregated {
						require.Contains(t, kept, m[1], "%s aggregates $labels.%s away", r.Alert, m[1])
					} else {
						require.True(t, targetLabels[m[1]] || strings.Contains(r.Expr, m[1]), "$labels.%s", m[1])
					}
				}
			}
		})
	}
	require.Contains(t, seen, "QemgateDown")
}

const promRulesFile, promRulesTests = "qemgate-rules.yaml", "qemgate-rules.test.yaml"

// TestPrometheusRulesHaveUnitTests checks that every alert has a promtool
// unit test in which it fires, so that the tests promtool runs cover the
// whole file.
func TestPrometheusRulesHaveUnitTests(t *testing.T) {
	t.Parallel()
	docs := yamlDocs(t, filepath.Join(promDir, promRulesTests))
	require.Len(t, docs, 1)
	var suite struct {
		RuleFiles []string `yaml:"rule_files"`
		Tests     []struct {
			Name       string `yaml:"name"`
			AlertTests []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []struct {
					ExpAnnotations map[string]string `yaml:"exp_annotations"`
				} `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	require.NoError(t, docs[0].Decode(&suite))
	require.Equal(t, []string{promRulesFile}, suite.RuleFiles)
	fires := map[string]bool{}
	for _, tc := range suite.Tests {
		require.NotEmpty(t, tc.Name, "every test case has a name")
		for _, at := range tc.AlertTests {
			for _, a := range at.ExpAlerts {
				require.NotEmpty(t, a.ExpAnnotations["summary"], "%s: %s fires without the summary an operator reads", tc.Name, at.Alertname)
				require.NotEmpty(t, a.ExpAnnotations["description"], "%s: %s fires without the description an operator reads", tc.Name, at.Alertname)
				fires[at.Alertname] = true
			}
		}
	}
	for _, r := range promRules(t) {
		require.True(t, fires[r.Alert], "%s has no test in %s in which it fires", r.Alert, promRulesTests)
	}
}

// TestPromtool runs `promtool check rules` and `promtool test rules` on the
// rules. CI installs promtool (Debian's prometheus package); elsewhere the
// test is skipped when it is missing.
func TestPromtool(t *testing.T) {
	t.Parallel()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed, so the alerting rules' unit tests do not run (apt-get install prometheus; CI does)")
	}
	for _, args := range [][]string{
		{"check", "rules", promRulesFile},
		{"test", "rules", promRulesTests},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, promtool, args...)
		cmd.Dir = promDir
		out, err := cmd.CombinedOutput()
		cancel()
		require.NoError(t, err, "promtool %s:\n%s", strings.Join(args, " "), out)
		t.Logf("promtool %s: %s", strings.Join(args, " "), bytes.TrimSpace(out))
	}
}
