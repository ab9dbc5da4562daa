module github.com/codomyrmex/logging

go 1.25

require gopkg.in/natefinch/lumberjack.v2 v2.2.1

require go.uber.org/goleak v1.3.0

require github.com/golang/snappy v1.0.0

require (
	github.com/stretchr/testify v1.12.1
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
