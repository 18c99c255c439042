// The driver is libFuzzer's; this target only declares it.
