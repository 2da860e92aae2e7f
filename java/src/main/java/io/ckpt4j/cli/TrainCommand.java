package io.ckpt4j.cli;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.checkpoint.Checkpoint;
import io.ckpt4j.checkpoint.optim.Optimizer;
import io.ckpt4j.checkpoint.optim.SGD;
import io.ckpt4j.checkpoint.sched.StepLR;
import io.ckpt4j.distributed.Distributed;
import io.ckpt4j.distributed.DistributedDataParallel;
import io.ckpt4j.distributed.DistributedOptions;
import io.ckpt4j.distributed.DistributedSampler;
import io.ckpt4j.distributed.ProcessGroup;
import io.ckpt4j.distributed.ReduceOp;
import io.ckpt4j.models.ResNet;
import io.ckpt4j.statedict.StateDict;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ckpt4j train}: the example of a DDP training script, one rank per process, started by
 * {@code ckpt4j launch --nproc N -- train} (torchrun's environment). A ResNet (default: ResNet-18
 * at width 8, i.e. ResNet-18's layout with 8 instead of 64 base channels, small enough for a few
 * CPU cores) learns a seeded synthetic dataset that every rank generates alike; a
 * DistributedSampler gives each rank its share; SGD with momentum and StepLR; after every epoch
 * rank 0 writes the training checkpoint Python's scripts write ({@code model} without
 * {@code module.}, {@code optimizer}, {@code lr_scheduler}, {@code epoch}, {@code args}) to
 * {@code DIR/checkpoint.pt}, behind a barrier; {@code --resume} continues after its epoch, on any
 * number of ranks.
 *
 * <p>BatchNorm's running statistics are each rank's own (this DDP does not broadcast buffers
 * before each forward as Python's {@code broadcast_buffers=True} does); rank 0's are saved.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Example: DDP training of a small ResNet on seeded synthetic data, one rank per"
        + " process; start it with `ckpt4j launch --nproc N -- train`. Checkpoint every epoch;"
        + " --resume continues.")
final class TrainCommand implements Callable<Integer> {
  /** The checkpoint file in {@code --dir}. */
  static final String CHECKPOINT = "checkpoint.pt";
  private static final String WORLD_SIZE = "WORLD_SIZE";
  /** How far the synthetic images' mean moves with their class: what there is to learn. */
  private static final double CLASS_SIGNAL = 2.0;
  private static final int CHANNELS = 3;

  @Option(names = "--epochs", description = "epochs in all, resumed ones included (default 3)")
  int epochs = 3;

  @Option(names = "--dir", paramLabel = "DIR", description = "where checkpoint.pt goes (default"
      + " train-ckpt)")
  Path dir = Path.of("train-ckpt");

  @Option(names = "--resume", description = "continue from DIR/checkpoint.pt")
  boolean resume;

  @Option(names = "--arch", description = "resnet18 (default), resnet34, resnet50, ...")
  String arch = "resnet18";

  @Option(names = "--width", description = "base channels (ResNet's own: 64; default 8)")
  long width = 8;

  @Option(names = "--samples", description = "dataset size (default 256)")
  long samples = 256;

  @Option(names = "--image-size", description = "image height and width (default 32)")
  long imageSize = 32;

  @Option(names = "--classes", description = "classes (default 10)")
  long classes = 10;

  @Option(names = "--batch-size", description = "per rank, as in Python DDP scripts (default 16)")
  int batchSize = 16;

  @Option(names = "--lr", description = "learning rate (default 0.05)")
  double lr = 0.05;

  @Option(names = "--momentum", description = "SGD momentum (default 0.9)")
  double momentum = 0.9;

  @Option(names = "--seed", description = "data, initial weights and sampler seed (default 0)")
  long seed = 0;

  @Option(names = "--timeout-s", description = "the process group's timeout: a rank that does"
      + " not answer within it fails every other rank (default 1800, Python's)")
  long timeoutSeconds = DistributedOptions.DEFAULT_TIMEOUT.toSeconds();

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws CheckpointException {
    if (System.getenv(WORLD_SIZE) == null) {
      throw new CheckpointException(Kind.INVALID_VALUE, "train is one rank of a job and reads"
          + " torchrun's environment (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), which is not"
          + " set: start it with `ckpt4j launch --nproc N -- train`");
    }
    Path file = dir.resolve(CHECKPOINT);
    if (resume && !Files.isRegularFile(file)) {
      throw new CheckpointException(Kind.NOT_FOUND, "--resume: no checkpoint at " + file
          + ": run without --resume first");
    }
    PrintWriter out = spec.commandLine().getOut();
    DistributedOptions options = DistributedOptions.fromEnvironment()
        .withTimeout(Duration.ofSeconds(timeoutSeconds));
    try (ProcessGroup group = Distributed.init(options);
        PointerScope scope = new PointerScope()) {
      torch.manual_seed(seed);
      Tensor labels = torch.randint(classes, new long[] {samples});
      Tensor images = torch.randn(samples, CHANNELS, imageSize, imageSize).add(labels
          .div(new Scalar((double) classes)).mul(new Scalar(CLASS_SIGNAL)).view(-1, 1, 1, 1));
      try (ResNet model = ResNet.create(arch, classes, width);
          Optimizer optimizer = new SGD(model.module().parameters(),
              SGD.options().lr(lr).momentum(momentum))) {
        StepLR scheduler = new StepLR(optimizer, 1, 0.9);
        long start = resume ? restore(file, model, optimizer, scheduler) : 0;
        if (group.rank() == 0 && resume) {
          out.printf("resumed %s: %d epochs done, %d to go%n", file, start,
              Math.max(0, epochs - start));
        }
        Files.createDirectories(dir);
        try (DistributedDataParallel<ResNet> ddp = DistributedDataParallel.of(model, group)) {
          DistributedSampler sampler = new DistributedSampler(samples, group.worldSize(),
              group.rank(), true, seed, false);
          for (long epoch = start; epoch < epochs; epoch++) {
            long began = System.nanoTime();
            sampler.setEpoch(epoch);
            double loss = epoch(ddp, optimizer, sampler.indices(), images, labels);
            double lrUsed = scheduler.getLastLr().get(0);
            scheduler.step();
            try (Checkpoint ckpt = Checkpoint.create().model(StateDict.of(model.module()))
                .optimizer(optimizer.stateDict()).lrScheduler(scheduler.stateDict())
                .epoch(epoch).args(args(group))) {
              ckpt.save(file, group);
            }
            if (group.rank() == 0) {
              out.printf("epoch %d/%d: loss %.4f (mean of %d ranks), lr %.4g, %d samples per"
                  + " rank, %.1f s; saved %s%n", epoch + 1, epochs, loss, group.worldSize(),
                  lrUsed, sampler.numSamples(), (System.nanoTime() - began) / 1e9, file);
              out.flush();
            }
          }
        }
        group.barrier();
      }
    } catch (java.io.IOException e) {
      if (e instanceof CheckpointException c) throw c;
      throw new CheckpointException(CheckpointException.ioKind(e), "cannot create " + dir + ": "
          + e.getMessage(), e);
    }
    return 0;
  }

  /** One epoch over this rank's indices; the loss averaged over the ranks. */
  private double epoch(DistributedDataParallel<ResNet> ddp, Optimizer optimizer, long[] indices,
      Tensor images, Tensor labels) throws CheckpointException {
    ddp.module().train(true);
    double sum = 0;
    int steps = 0;
    for (int at = 0; at + batchSize <= indices.length; at += batchSize) {
      try (PointerScope step = new PointerScope()) {
        Tensor idx = torch.tensor(Arrays.copyOfRange(indices, at, at + batchSize));
        optimizer.zeroGrad();
        Tensor loss = torch.cross_entropy_loss(ddp.forward(images.index_select(0, idx)),
            labels.index_select(0, idx));
        ddp.backward(loss);
        optimizer.step();
        sum += loss.item_double();
        steps++;
      }
    }
    try (PointerScope s = new PointerScope()) {
      Tensor mean = torch.full(new long[] {1}, new Scalar(steps == 0 ? 0 : sum / steps));
      ddp.processGroup().allReduce(mean, ReduceOp.AVG);
      return mean.item_double();
    }
  }

  /** Loads DIR/checkpoint.pt into the model, optimizer and scheduler; the next epoch. */
  private static long restore(Path file, ResNet model, Optimizer optimizer, StepLR scheduler)
      throws CheckpointException {
    try (Checkpoint ckpt = Checkpoint.load(file)) {
      ckpt.model().loadInto(model.module());
      optimizer.loadStateDict(ckpt.optimizer());
      scheduler.loadStateDict(ckpt.lrScheduler());
      return ckpt.epoch() + 1;
    }
  }

  private Map<String, Object> args(ProcessGroup group) {
    Map<String, Object> args = new LinkedHashMap<>();
    args.put("arch", arch);
    args.put("width", width);
    args.put("samples", samples);
    args.put("image_size", imageSize);
    args.put("classes", classes);
    args.put("batch_size", (long) batchSize);
    args.put("lr", lr);
    args.put("momentum", momentum);
    args.put("seed", seed);
    args.put("world_size", (long) group.worldSize());
    return args;
  }
}
