/**
 * {@code ckpt4j scan}: decides whether a checkpoint file is safe to hand to {@code torch.load}
 * without running it. {@link io.ckpt4j.scan.CheckpointScanner} reads each file with the same
 * container readers and the same pickle machine as the loader — with a recorder in place of
 * materialization, and no tensor bytes read — and returns a {@link io.ckpt4j.scan.ScanReport}:
 * per file the format, the loader torch would use, every global and call site, the container
 * anomalies and size lies found, and a {@link io.ckpt4j.scan.Verdict}.
 */
package io.ckpt4j.scan;
