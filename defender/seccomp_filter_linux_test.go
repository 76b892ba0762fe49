//go:build linux

package defender

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

func TestFilterAssembles(t *testing.T) {
	for _, m := range []Mechanism{Trace, Notify} {
		prog, err := filterProgram(m)
		if err != nil || len(prog) == 0 || len(prog) > 4096 {
			t.Fatalf("filter (%s): %d instructions, %v", m, len(prog), err)
		}
	}
}

// TestClassifyAgreesWithFilter runs the filter (in x/net/bpf's interpreter) on calls of
// every rule and on their harmless neighbours: whatever it hands to the defender, classify
// must name the same rule, under both mechanisms.
func TestClassifyAgreesWithFilter(t *testing.T) {
	sig := func(s unix.Signal) uint64 { return uint64(s) }
	cases := []struct {
		name   string
		nr     int
		args   [6]uint64
		handed bool
	}{
		{"execve", unix.SYS_EXECVE, [6]uint64{}, true},
		{"execveat", unix.SYS_EXECVEAT, [6]uint64{}, true},
		{"clone", unix.SYS_CLONE, [6]uint64{uint64(unix.SIGCHLD)}, false},
		{"clone untraced", unix.SYS_CLONE, [6]uint64{unix.CLONE_UNTRACED}, true},
		{"clone newns", unix.SYS_CLONE, [6]uint64{unix.CLONE_NEWNS}, true},
		{"unshare newns", unix.SYS_UNSHARE, [6]uint64{unix.CLONE_NEWNS}, true},
		{"unshare files", unix.SYS_UNSHARE, [6]uint64{unix.CLONE_FILES}, false},
		{"unshare newuser", unix.SYS_UNSHARE, [6]uint64{unix.CLONE_NEWUSER}, true},
		{"unshare newuser newns", unix.SYS_UNSHARE, [6]uint64{unix.CLONE_NEWUSER | unix.CLONE_NEWNS}, true},
		{"clone newuser", unix.SYS_CLONE, [6]uint64{unix.CLONE_NEWUSER}, true},
		{"clone untraced newuser", unix.SYS_CLONE, [6]uint64{unix.CLONE_UNTRACED | unix.CLONE_NEWUSER}, true},
		{"clone newuser newns", unix.SYS_CLONE, [6]uint64{unix.CLONE_NEWUSER | unix.CLONE_NEWNS}, true},
		{"utimensat", unix.SYS_UTIMENSAT, [6]uint64{}, true},
		{"chroot", unix.SYS_CHROOT, [6]uint64{}, true},
		{"pivot_root", unix.SYS_PIVOT_ROOT, [6]uint64{}, true},
		{"setns", unix.SYS_SETNS, [6]uint64{}, true},
		{"ptrace", unix.SYS_PTRACE, [6]uint64{}, true},
		{"process_vm_readv", unix.SYS_PROCESS_VM_READV, [6]uint64{}, true},
		{"process_vm_writev", unix.SYS_PROCESS_VM_WRITEV, [6]uint64{}, true},
		{"seccomp listener", unix.SYS_SECCOMP, [6]uint64{1, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER}, true},
		{"seccomp tsync", unix.SYS_SECCOMP, [6]uint64{1, unix.SECCOMP_FILTER_FLAG_TSYNC}, false},
		{"sigqueue SEGV", unix.SYS_RT_SIGQUEUEINFO, [6]uint64{1, sig(unix.SIGSEGV)}, true},
		{"sigqueue STKFLT", unix.SYS_RT_SIGQUEUEINFO, [6]uint64{1, sig(unix.SIGSTKFLT)}, true},
		{"sigqueue USR1", unix.SYS_RT_SIGQUEUEINFO, [6]uint64{1, sig(unix.SIGUSR1)}, false},
		{"tgsigqueue ABRT", unix.SYS_RT_TGSIGQUEUEINFO, [6]uint64{1, 1, sig(unix.SIGABRT)}, true},
		{"pidfd_send_signal SYS", unix.SYS_PIDFD_SEND_SIGNAL, [6]uint64{3, sig(unix.SIGSYS)}, true},
		{"pidfd_send_signal TERM", unix.SYS_PIDFD_SEND_SIGNAL, [6]uint64{3, sig(unix.SIGTERM)}, false},
		{"F_SETSIG BUS", unix.SYS_FCNTL, [6]uint64{3, unix.F_SETSIG, sig(unix.SIGBUS)}, true},
		{"F_SETSIG IO", unix.SYS_FCNTL, [6]uint64{3, unix.F_SETSIG, sig(unix.SIGIO)}, false},
		{"F_SETFL", unix.SYS_FCNTL, [6]uint64{3, unix.F_SETFL, sig(unix.SIGSEGV)}, false},
		{"getpid", unix.SYS_GETPID, [6]uint64{}, false},
	}
	for _, m := range []Mechanism{Trace, Notify} {
		raw, err := filterProgram(m)
		if err != nil {
			t.Fatal(err)
		}
		prog := make([]bpf.Instruction, len(raw))
		for i, r := range raw {
			prog[i] = r.Disassemble()
		}
		vm, err := bpf.NewVM(prog)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range cases {
			// struct seccomp_data. The interpreter loads words big-endian, the kernel in the
			// machine's order: each word is stored so that a load sees what the kernel's would.
			data := make([]byte, 64)
			binary.BigEndian.PutUint32(data[offNR:], uint32(tc.nr))
			binary.BigEndian.PutUint32(data[offArch:], auditArch)
			for i, a := range tc.args {
				binary.BigEndian.PutUint32(data[offArg(i):], uint32(a)) // the low half first (little-endian)
				binary.BigEndian.PutUint32(data[offArg(i)+4:], uint32(a>>32))
			}
			ret, err := vm.Run(data)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			action := uint32(ret) & unix.SECCOMP_RET_ACTION_FULL
			handoff := uint32(retTrace)
			if m == Notify {
				handoff = retNotif
			}
			if got := action == handoff; got != tc.handed {
				t.Errorf("%s (%s): filter returns %#x; handed to the defender: %v, want %v", tc.name, m, ret, got, tc.handed)
				continue
			}
			if !tc.handed {
				continue
			}
			if m == Trace && uint(uint32(ret)&unix.SECCOMP_RET_DATA) != classify(tc.nr, tc.args) {
				t.Errorf("%s: the filter's datum is %d, classify says %d", tc.name, uint32(ret)&unix.SECCOMP_RET_DATA, classify(tc.nr, tc.args))
			}
			if classify(tc.nr, tc.args) == 0 {
				t.Errorf("%s (%s): handed to the defender, but classify knows no rule for it", tc.name, m)
			}
		}
	}
}
