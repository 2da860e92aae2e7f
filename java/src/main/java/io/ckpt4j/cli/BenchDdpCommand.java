package io.ckpt4j.cli;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.checkpoint.optim.Optimizer;
import io.ckpt4j.checkpoint.optim.SGD;
import io.ckpt4j.distributed.Distributed;
import io.ckpt4j.distributed.DistributedDataParallel;
import io.ckpt4j.distributed.DistributedOptions;
import io.ckpt4j.distributed.ProcessGroup;
import io.ckpt4j.distributed.ReduceOp;
import io.ckpt4j.models.ResNet;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ckpt4j bench-ddp}, one rank of {@code ckpt4j launch --nproc N -- bench-ddp}: the median
 * time of a DDP training step (zero_grad, forward, cross-entropy, backward with the gradient
 * all-reduce, SGD step) of a ResNet on a fixed random batch, then the median time of an
 * all-reduce (SUM) of a float32 tensor. Rank 0 prints {@code step SECONDS} and
 * {@code allreduce BYTES SECONDS}. tests/bench/ddp.sh runs it beside Python's DDP
 * (tests/bench/ddp_python.py, the same model, batch and sizes).
 */
@Command(name = "bench-ddp", hidden = true, description = "Time DDP steps and all-reduce"
    + " (benchmark; a rank of `ckpt4j launch`).")
final class BenchDdpCommand implements Callable<Integer> {
  private static final int CHANNELS = 3;
  private static final long BYTES_PER_FLOAT = 4;
  private static final long MIB = 1L << 20;

  @Option(names = "--width", defaultValue = "16") long width;
  @Option(names = "--batch-size", defaultValue = "32") long batch;
  @Option(names = "--image-size", defaultValue = "32") long imageSize;
  @Option(names = "--classes", defaultValue = "10") long classes;
  @Option(names = "--warmup", defaultValue = "3") int warmup;
  @Option(names = "--steps", defaultValue = "20") int steps;
  @Option(names = "--allreduce-mib", defaultValue = "64") long allreduceMib;
  @Option(names = "--allreduce-runs", defaultValue = "10") int allreduceRuns;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws CheckpointException {
    PrintWriter out = spec.commandLine().getOut();
    DistributedOptions options = DistributedOptions.fromEnvironment()
        .withTimeout(Duration.ofMinutes(5));
    try (ProcessGroup group = Distributed.init(options);
        PointerScope scope = new PointerScope()) {
      torch.manual_seed(group.rank());
      Tensor x = torch.randn(batch, CHANNELS, imageSize, imageSize);
      Tensor y = torch.randint(classes, new long[] {batch});
      double step;
      try (ResNet model = ResNet.create("resnet18", classes, width);
          Optimizer sgd = new SGD(model.module().parameters(), SGD.options().lr(0.01));
          DistributedDataParallel<ResNet> ddp = DistributedDataParallel.of(model, group)) {
        model.train(true);
        double[] times = new double[steps];
        for (int i = -warmup; i < steps; i++) {
          group.barrier();
          long start = System.nanoTime();
          try (PointerScope s = new PointerScope()) {
            sgd.zeroGrad();
            ddp.backward(torch.cross_entropy_loss(ddp.forward(x), y));
            sgd.step();
          }
          if (i >= 0) times[i] = (System.nanoTime() - start) / 1e9;
        }
        step = median(times);
      }
      long floats = allreduceMib * MIB / BYTES_PER_FLOAT;
      double[] reduce = new double[allreduceRuns];
      try (Tensor t = torch.ones(floats)) {
        for (int i = -1; i < allreduceRuns; i++) {
          group.barrier();
          long start = System.nanoTime();
          group.allReduce(t, ReduceOp.SUM);
          if (i >= 0) reduce[i] = (System.nanoTime() - start) / 1e9;
        }
      }
      group.barrier();
      if (group.rank() == 0) {
        out.printf("step %.6f%n", step);
        out.printf("allreduce %d %.6f%n", floats * BYTES_PER_FLOAT, median(reduce));
        out.flush();
      }
    }
    return 0;
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
