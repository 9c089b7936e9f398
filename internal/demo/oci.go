package demo

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Registry is go-containerregistry's in-process OCI registry served on a loopback port.
type Registry struct {
	// Host is host:port, reachable over plain HTTP.
	Host string
	srv  *http.Server
	done chan error
}

// StartRegistry serves an OCI registry (with the OCI 1.1 referrers API) on 127.0.0.1 at a
// free port until Close.
func StartRegistry() (*Registry, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo OCI registry: %w", err)
	}
	h := registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0)))
	r := &Registry{Host: ln.Addr().String(), srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, done: make(chan error, 1)}
	go func() { r.done <- r.srv.Serve(ln) }()
	return r, nil
}

// Close stops the registry.
func (r *Registry) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := r.srv.Shutdown(ctx)
	if serr := <-r.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// Image is a pushed image.
type Image struct {
	// Ref is host/repo:tag, Digest sha256:<hex> of the manifest.
	Ref, Digest string
	repo        name.Repository
}

// DigestRef is host/repo@digest.
func (i Image) DigestRef() string { return i.repo.Name() + "@" + i.Digest }

// File is one file of an image's only layer.
type File struct {
	Path string
	Mode int64
	Data []byte
}

// epoch is every file's modification time, so that the same files make the same image.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Push builds an OCI image of one layer holding files, with cmd as its command, and pushes
// it as repo:tag.
func (r *Registry) Push(ctx context.Context, repo, tag string, cmd []string, files []File) (Image, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, f := range files {
		parts := strings.Split(strings.Trim(f.Path, "/"), "/")
		for i := 1; i < len(parts); i++ {
			d := strings.Join(parts[:i], "/") + "/"
			if !dirs[d] {
				dirs[d] = true
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: epoch}); err != nil {
					return Image{}, err
				}
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.Trim(f.Path, "/"), Mode: f.Mode, Size: int64(len(f.Data)), ModTime: epoch}); err != nil {
			return Image{}, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return Image{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return Image{}, err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), static.NewLayer(buf.Bytes(), types.OCIUncompressedLayer))
	if err != nil {
		return Image{}, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return Image{}, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Created = "amd64", "linux", v1.Time{Time: epoch}
	cf.Config.Cmd = cmd
	cf.Config.Labels = map[string]string{"org.opencontainers.image.source": "https://github.com/vetted-dev/vetted/tree/main/examples/weather-server"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return Image{}, err
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	ref, err := name.NewTag(r.Host+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		return Image{}, err
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
		return Image{}, fmt.Errorf("push %s: %w", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return Image{}, err
	}
	return Image{Ref: ref.String(), Digest: d.String(), repo: ref.Repository}, nil
}

// layer is a blob plus the descriptor fields a manifest gives it.
type layer struct {
	data        []byte
	mediaType   string
	annotations map[string]string
}

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type rawManifest struct{ body []byte }

func (m rawManifest) RawManifest() ([]byte, error)        { return m.body, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// putTagged uploads layers and an OCI manifest over them as repo:tag, the way cosign stores
// signatures (sha256-<hex>.sig) and attestations (sha256-<hex>.att).
func putTagged(ctx context.Context, repo name.Repository, tag string, layers []layer) error {
	cfg := static.NewLayer([]byte("{}"), "application/vnd.oci.empty.v1+json")
	if err := remote.WriteLayer(repo, cfg, remote.WithContext(ctx)); err != nil {
		return err
	}
	cd, err := cfg.Digest()
	if err != nil {
		return err
	}
	m := struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Config        descriptor   `json:"config"`
		Layers        []descriptor `json:"layers"`
	}{2, string(types.OCIManifestSchema1), descriptor{MediaType: "application/vnd.oci.empty.v1+json", Digest: cd.String(), Size: 2}, nil}
	for _, l := range layers {
		sl := static.NewLayer(l.data, types.MediaType(l.mediaType))
		if err := remote.WriteLayer(repo, sl, remote.WithContext(ctx)); err != nil {
			return err
		}
		d, err := sl.Digest()
		if err != nil {
			return err
		}
		m.Layers = append(m.Layers, descriptor{MediaType: l.mediaType, Digest: d.String(), Size: int64(len(l.data)), Annotations: l.annotations})
	}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return remote.Put(repo.Tag(tag), rawManifest{body}, remote.WithContext(ctx))
}

// cosignTag is cosign's tag for a suffix (".sig", ".att") of digest.
func cosignTag(digest, suffix string) string {
	return "sha256-" + strings.TrimPrefix(digest, "sha256:") + suffix
}
