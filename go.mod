module github.com/hawechaty/hawechaty

go 1.25

require (
	github.com/benbjohnson/immutable v0.4.3 // indirect
	github.com/cenkalti/backoff/v4 v4.0.0 // indirect
	github.com/cockroachdb/datadriven v1.0.3 // indirect
	github.com/emirpasic/gods v1.12.0 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	github.com/reactivex/rxgo/v2 v2.5.0 // indirect
	github.com/samber/lo v1.53.0 // indirect
	github.com/stretchr/objx v0.5.3 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	github.com/teivah/onecontext v0.0.0-20200513185103-40f981bfd775 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/exp v0.0.0-20220518171630-0b5c67f07fdf // indirect
	golang.org/x/text v0.22.0 // indirect
)
