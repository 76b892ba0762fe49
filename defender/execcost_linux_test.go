//go:build linux

package defender

import (
	"encoding/binary"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taskward/taskward/policy"
)

// execCallFixture lays out, in this process's memory, the arguments of
// execve("/bin/true", ["/bin/true"], env) with an environment like a container's.
type execCallFixture struct {
	keep             [][]byte
	path, argv, envp uint64
}

func newExecCallFixture(env []string) *execCallFixture {
	x := &execCallFixture{}
	cstr := func(s string) uint64 {
		b := append([]byte(s), 0)
		x.keep = append(x.keep, b)
		return addrOf(b)
	}
	// The strings one after the other, as the kernel lays out a new program's stack and
	// as a shell builds an environment.
	array := func(ss []string) uint64 {
		b := make([]byte, 8*len(ss)+8)
		var text []byte
		for _, s := range ss {
			text = append(append(text, s...), 0)
		}
		x.keep = append(x.keep, b, text)
		at := addrOf(text)
		for i, s := range ss {
			binary.LittleEndian.PutUint64(b[8*i:], at)
			at += uint64(len(s) + 1)
		}
		return addrOf(b)
	}
	x.path, x.argv, x.envp = cstr("/bin/true"), array([]string{"/bin/true"}), array(env)
	return x
}

// containerEnv is a typical ECS task's environment: about 20 variables, no loader ones.
var containerEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=ip-10-0-1-23.ec2.internal",
	"HOME=/root", "LANG=C.UTF-8", "AWS_EXECUTION_ENV=AWS_ECS_FARGATE", "AWS_DEFAULT_REGION=eu-west-1", "AWS_REGION=eu-west-1",
	"ECS_CONTAINER_METADATA_URI=http://169.254.170.2/v3/0123456789abcdef-1234567890",
	"ECS_CONTAINER_METADATA_URI_V4=http://169.254.170.2/v4/0123456789abcdef-1234567890",
	"ECS_AGENT_URI=http://169.254.170.2/api/0123456789abcdef-1234567890",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/01234567-89ab-cdef-0123-456789abcdef",
	"APP_ENV=production", "LOG_LEVEL=info", "PORT=8080", "DATABASE_HOST=db.internal", "DATABASE_NAME=app",
	"GOMAXPROCS=2", "TZ=UTC", "PWD=/app", "SHLVL=1", "_=/bin/true",
}

// BenchmarkExecPieces measures, per exec of a dynamic program (/bin/true), the pieces of
// the decision path that issue 11's integrity checks added, against this process as the
// "tracee" (its memory, its /proc entry).
func BenchmarkExecPieces(b *testing.B) {
	pid := os.Getpid()
	x := newExecCallFixture(containerEnv)
	p := policy.Default()
	drift := driftCheck{baseline: time.Now()}
	root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(root)
	b.Run("readExecArgs", func(b *testing.B) {
		for b.Loop() {
			if _, _, _, err := readExecArgs(pid, x.path, x.argv); err != nil {
				b.Fatal(err)
			}
		}
	})
	args := [6]uint64{x.path, x.argv, x.envp}
	b.Run("readExecCall", func(b *testing.B) {
		for b.Loop() {
			if _, err := readExecCall(pid, pid, unix.SYS_EXECVE, args); err != nil {
				b.Fatal(err)
			}
		}
	})
	c, err := readExecCall(pid, pid, unix.SYS_EXECVE, args)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decideExec", func(b *testing.B) {
		for b.Loop() {
			if v := decideExec(p, c, drift, root); v.approval == nil || v.approval.interp == "" {
				b.Fatalf("no approval with an interpreter: %+v", v)
			}
		}
	})
	r := newResolver(pid, pid)
	r.sharedRoot, r.rootView = root, "/"
	prog, err := r.execTarget(unix.AT_FDCWD, "/bin/true", 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("execTarget(program)", func(b *testing.B) {
		for b.Loop() {
			r.execTarget(unix.AT_FDCWD, "/bin/true", 0)
		}
	})
	b.Run("locate(interpreter)", func(b *testing.B) {
		for b.Loop() {
			if _, err := r.locate(prog.elfInterp); err != nil {
				b.Fatal(err)
			}
		}
	})
	v := decideExec(p, c, drift, root)
	a := v.approval
	a.prepare(pid)
	defer a.release()
	b.Run("stat interpreter", func(b *testing.B) {
		for b.Loop() {
			var st unix.Stat_t
			if err := unix.Stat(a.interp, &st); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("environ of a new image", func(b *testing.B) {
		pid := stoppedAfterExec(b, containerEnv)
		for b.Loop() {
			fd, err := unix.Open("/proc/"+itoa(pid)+"/environ", unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				b.Fatal(err)
			}
			loaderVarsIn(fd)
			unix.Close(fd)
		}
	})
	b.Run("stack of a new image", func(b *testing.B) {
		pid := stoppedAfterExec(b, containerEnv)
		for b.Loop() {
			if _, _, ok := loaderVarsOnStack(pid); !ok {
				b.Fatal("not read from the stack")
			}
		}
	})
	b.Run("loaderEnvAt", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := loaderEnvAt(pid, a); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// stoppedAfterExec starts /bin/true with env, stopped right after its exec and traced by
// the calling thread, which stays locked until the test ends.
func stoppedAfterExec(tb testing.TB, env []string) int {
	runtime.LockOSThread()
	tb.Cleanup(runtime.UnlockOSThread)
	cmd := exec.Command("/bin/true")
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var ws unix.WaitStatus
	if _, err := unix.Wait4(cmd.Process.Pid, &ws, 0, nil); err != nil || !ws.Stopped() {
		tb.Fatalf("child not stopped after exec: %v %v", ws, err)
	}
	return cmd.Process.Pid
}
