package redact

import (
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// cpuTime returns the CPU time that f takes on its thread: time spent
// waiting for a core, which a loaded machine adds to wall-clock timings at
// random, is not counted.
func cpuTime(f func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t := threadCPU()
	f()
	return threadCPU() - t
}

func threadCPU() time.Duration {
	const clockThreadCPUTimeID = 3 // CLOCK_THREAD_CPUTIME_ID
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		panic(e)
	}
	return time.Duration(ts.Nano())
}
