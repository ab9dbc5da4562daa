module github.com/codomyrmex/logging/benchmarks

go 1.25

require (
	github.com/codomyrmex/logging v0.0.0
	github.com/rs/zerolog v1.35.1
	go.uber.org/zap v1.28.0
	gopkg.in/natefinch/lumberjack.v2 v2.2.1
)

require (
	github.com/golang/snappy v1.0.0 // indirect
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	go.uber.org/multierr v1.10.0 // indirect
	golang.org/x/sys v0.29.0 // indirect
)

replace github.com/codomyrmex/logging => ../
