package defender

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Install copies the running executable to dir/defender, mode 0555, atomically (a
// temporary file renamed over the target), so that an application container never sees a
// half-written defender. Installing again replaces it; the init container may restart.
func Install(dir string) error {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return fmt.Errorf("install: open own executable: %w", err)
	}
	defer src.Close()
	tmp, err := os.CreateTemp(dir, ".defender-*")
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, src); err != nil {
		return fmt.Errorf("install: copy to %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o555); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	dst := filepath.Join(dir, "defender")
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	ok = true
	return nil
}
