/**
 * {@code torch.distributed} on the c10d engine the JavaCPP presets ship: a Java process is a rank
 * of a real process group, and Java and Python ranks can share one.
 *
 * <ul>
 *   <li>{@link io.ckpt4j.distributed.Distributed#init} ({@code init_process_group}) with
 *       {@link io.ckpt4j.distributed.DistributedOptions} ({@code env://} from torchrun's
 *       variables, {@code tcp://}, {@code file://}; backend {@code gloo}, timeout);
 *   <li>{@link io.ckpt4j.distributed.ProcessGroup}: all_reduce
 *       ({@link io.ckpt4j.distributed.ReduceOp}), broadcast, all_gather, barrier, each bounded by
 *       a timeout; a missing, dead or silent peer is a {@code PEER_FAILED}
 *       {@link io.ckpt4j.CheckpointException}; close is {@code destroy_process_group};
 *   <li>{@link io.ckpt4j.distributed.DistributedSampler}: Python's index arithmetic;
 *   <li>{@link io.ckpt4j.distributed.DistributedDataParallel}: broadcast from rank 0 and a
 *       bucketed gradient all-reduce after backward for a {@link io.ckpt4j.nn.TorchModel};
 *       {@code saveModuleStateDict} is rank 0's {@code torch.save(ddp.module.state_dict())};
 *   <li>{@link io.ckpt4j.distributed.RankZero}: work done by rank 0 while the others wait and
 *       learn its outcome ({@code if rank == 0: torch.save(...)}; {@code dist.barrier()});
 *   <li>{@link io.ckpt4j.distributed.DistributedDcp}: {@code dcp.save} (a file per rank, rank 0's
 *       {@code .metadata}) and {@code dcp.load} into pre-allocated tensors, in a group.
 * </ul>
 *
 * <p>Facts of the presets' c10d bindings (2.13.0-1.5.14, CPU) this package is built on: the
 * classes used are {@code ProcessGroupGloo} (+ {@code Options}, devices from
 * {@code createDeviceForHostname}/{@code createDeviceForInterface}), {@code TCPStore},
 * {@code FileStore}, {@code PrefixStore}, {@code Work}, {@code ReduceOp}, the per-collective
 * option classes; Python's default group keys live under {@code default_pg/0//cpu/}; one Java
 * {@code Store} object handed to two c10d constructors aborts the JVM, so each constructor gets
 * its own; Gloo errors and timeouts arrive as catchable RuntimeExceptions, but a collective whose
 * size differs between ranks aborts the receiving process from a Gloo thread; several groups (one
 * per thread) in one JVM work, which the tests use. NCCL is not in the CPU build.
 */
package io.ckpt4j.distributed;
