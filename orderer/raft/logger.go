package raft

import (
	"context"
	"fmt"
	"log/slog"
)

// slogRaft adapts slog to raft's Logger. raft calls Panic/Fatal only when
// its own invariants break; both panic here and the node's run loop turns
// that into a stopped node with an error instead of a crashed process.
type slogRaft struct{ l *slog.Logger }

func (s slogRaft) log(level slog.Level, msg string) {
	s.l.Log(context.Background(), level, msg)
}

func (s slogRaft) Debug(v ...any)              { s.log(slog.LevelDebug, fmt.Sprint(v...)) }
func (s slogRaft) Debugf(f string, v ...any)   { s.log(slog.LevelDebug, fmt.Sprintf(f, v...)) }
func (s slogRaft) Info(v ...any)               { s.log(slog.LevelInfo, fmt.Sprint(v...)) }
func (s slogRaft) Infof(f string, v ...any)    { s.log(slog.LevelInfo, fmt.Sprintf(f, v...)) }
func (s slogRaft) Warning(v ...any)            { s.log(slog.LevelWarn, fmt.Sprint(v...)) }
func (s slogRaft) Warningf(f string, v ...any) { s.log(slog.LevelWarn, fmt.Sprintf(f, v...)) }
func (s slogRaft) Error(v ...any)              { s.log(slog.LevelError, fmt.Sprint(v...)) }
func (s slogRaft) Errorf(f string, v ...any)   { s.log(slog.LevelError, fmt.Sprintf(f, v...)) }
func (s slogRaft) Fatal(v ...any)              { s.Panic(v...) }
func (s slogRaft) Fatalf(f string, v ...any)   { s.Panicf(f, v...) }
func (s slogRaft) Panic(v ...any)              { m := fmt.Sprint(v...); s.log(slog.LevelError, m); panic(m) }
func (s slogRaft) Panicf(f string, v ...any)   { s.Panic(fmt.Sprintf(f, v...)) }
