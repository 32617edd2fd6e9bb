package kube

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func TestControlPlaneNamespaceAndSecret(t *testing.T) {
	cfg := ControlPlane(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// A generated name, so the test also passes on a reused instance.
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "weft-kube-test-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns.Name}}, metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Errorf("second create of the namespace: %v, want AlreadyExists", err)
	}
	data := map[string][]byte{"tls.key": {0, 1, 2, 0xff}, "token": []byte("s3cret")}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "orderer0-tls", Namespace: ns.Name}, Data: data}
	if _, err := cs.CoreV1().Secrets(ns.Name).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create secret: %v", err)
	}
	got, err := cs.CoreV1().Secrets(ns.Name).Get(ctx, sec.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get secret: %v", err)
	}
	if len(got.Data) != len(data) {
		t.Errorf("secret has %d keys, want %d", len(got.Data), len(data))
	}
	for k, v := range data {
		if !bytes.Equal(got.Data[k], v) {
			t.Errorf("secret[%s] = %x, want %x", k, got.Data[k], v)
		}
	}
	if _, err := cs.CoreV1().Secrets(ns.Name).Get(ctx, "absent", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get of an absent secret: %v, want NotFound", err)
	}
	if _, err := cs.CoreV1().Secrets("no-such-ns").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("create in a missing namespace: %v, want NotFound", err)
	}

	// The API must really check client certificates: without one the same
	// request is refused.
	anon := rest.AnonymousClientConfig(cfg)
	if _, err := kubernetes.NewForConfigOrDie(anon).CoreV1().Secrets(ns.Name).Get(ctx, sec.Name, metav1.GetOptions{}); !apierrors.IsForbidden(err) && !apierrors.IsUnauthorized(err) {
		t.Errorf("anonymous get of the secret: %v, want Forbidden or Unauthorized", err)
	}
}

func TestClusterRunsPod(t *testing.T) {
	cfg := Cluster(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// A generated name, so the test also passes on a reused instance.
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "weft-kube-test-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	// The default ServiceAccount appears only once the controller manager
	// has seen the namespace, and pods are refused until then.
	var pod *corev1.Pod
	err = wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "sleeper", Namespace: ns.Name},
			Spec: corev1.PodSpec{
				TerminationGracePeriodSeconds: new(int64),
				Containers: []corev1.Container{{
					Name: "pause", Image: "weft.local/pause:v1", ImagePullPolicy: corev1.PullNever,
				}},
			},
		}
		var err error
		pod, err = cs.CoreV1().Pods(ns.Name).Create(ctx, p, metav1.CreateOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("create pod: %v", err)
	}
	err = wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		p, err := cs.CoreV1().Pods(ns.Name).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		pod = p
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("pod never became Ready: %v; phase %s, status %+v", err, pod.Status.Phase, pod.Status.ContainerStatuses)
	}
	if pod.Status.PodIP == "" || pod.Spec.NodeName == "" {
		t.Errorf("ready pod without IP or node: ip %q node %q", pod.Status.PodIP, pod.Spec.NodeName)
	}

	// A pod whose image is not imported must not start: no registry is used.
	bad := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "absent-image", Namespace: ns.Name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c", Image: "weft.local/not-imported:v1", ImagePullPolicy: corev1.PullNever,
		}}},
	}
	if _, err := cs.CoreV1().Pods(ns.Name).Create(ctx, bad, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod with absent image: %v", err)
	}
	err = wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		p, err := cs.CoreV1().Pods(ns.Name).Get(ctx, bad.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, s := range p.Status.ContainerStatuses {
			if s.State.Running != nil {
				return false, fmt.Errorf("container of %s is running", bad.Name)
			}
			if w := s.State.Waiting; w != nil && w.Reason == "ErrImageNeverPull" {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Errorf("pod with an absent image: %v, want ErrImageNeverPull", err)
	}
}
