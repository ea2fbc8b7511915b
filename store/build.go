package store

import (
	"reflect"
	"runtime"
	"slices"
)

// building runs f, New's building of the middleware chain, under a frame
// that Dispatch can find on its own goroutine's stack (onBuildingStack).
// Go has no goroutine identity, and that is the question Dispatch must
// answer while the chain is being built: a dispatch made synchronously by
// a factory cannot wait for the chain (it would wait for itself) and gets
// ErrBuilding, as Redux throws; one from any other goroutine waits.
//
//go:noinline
func building(f func()) { f() }

// buildingFunc is the name of building in stack frames.
var buildingFunc = runtime.FuncForPC(reflect.ValueOf(building).Pointer()).Name()

// onBuildingStack reports whether the calling goroutine is inside
// building. It walks the stack, which is fine for the few dispatches made
// while New runs; Dispatch never calls it afterwards.
func onBuildingStack() bool { return onStack(buildingFunc) }

// onStack reports whether the calling goroutine is inside a function
// named in fns.
func onStack(fns ...string) bool {
	pcs := make([]uintptr, 64)
	for {
		n := runtime.Callers(2, pcs)
		if n < len(pcs) {
			pcs = pcs[:n]
			break
		}
		pcs = make([]uintptr, 2*len(pcs))
	}
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		if slices.Contains(fns, f.Function) {
			return true
		}
		if !more {
			return false
		}
	}
}
