package store_test

import (
	"context"
	"fmt"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
)

var (
	deposit  = actions.Define[int]("example/DEPOSIT")
	receipts = actions.Define[int]("example/RECEIPT")
)

func Example() {
	balance := func(prev int, a actions.Action) int {
		if n, ok := deposit.Match(a); ok {
			return prev + n
		}
		return prev
	}
	// An epic: every deposit is answered with a receipt carrying the balance.
	receipt := func(ctx context.Context, in rxgo.Observable, state store.StateStream[int]) rxgo.Observable {
		return in.Filter(func(v any) bool { return deposit.Is(v.(actions.Action)) }, rxgo.WithContext(ctx)).
			Map(func(_ context.Context, v any) (any, error) {
				return receipts.New(state.Value()), nil
			}, rxgo.WithContext(ctx))
	}
	st, err := store.New(balance, 0, store.WithEpic("receipt", receipt))
	if err != nil {
		panic(err)
	}
	sub := st.Subscribe(16)
	if err := st.Start(context.Background()); err != nil {
		panic(err)
	}
	_ = st.Dispatch(deposit.New(10))
	for c := range sub.C() {
		fmt.Println(c.Action.Meta.Seq, c.Action.Type, c.State)
		if receipts.Is(c.Action) {
			break
		}
	}
	st.Stop()
	fmt.Println(st.Dispatch(deposit.New(1)))
	// Output:
	// 1 @@store/INIT 0
	// 2 example/DEPOSIT 10
	// 3 example/RECEIPT 10
	// store: stopped
}

// A store's reducer swapped at run time, as Redux's replaceReducer does:
// the new reducer reduces @@store/REPLACE_REDUCER at once, then every
// later action.
func ExampleStore_ReplaceReducer() {
	add := func(prev int, a actions.Action) int {
		if n, ok := deposit.Match(a); ok {
			return prev + n
		}
		return prev
	}
	st, err := store.New(add, 0)
	if err != nil {
		panic(err)
	}
	defer st.Stop()
	_ = st.Dispatch(deposit.New(5))
	double := func(prev int, a actions.Action) int {
		if n, ok := deposit.Match(a); ok {
			return prev + 2*n
		}
		return prev
	}
	if err := st.ReplaceReducer(double); err != nil {
		panic(err)
	}
	_ = st.Dispatch(deposit.New(5))
	fmt.Println(st.State())
	// Output: 15
}
