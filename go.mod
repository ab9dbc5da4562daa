module github.com/codomyrmex/logging

go 1.25

require gopkg.in/natefinch/lumberjack.v2 v2.2.1
