package io.ckpt4j.distributed;

import io.ckpt4j.checkpoint.optim.Optimizer;
import io.ckpt4j.checkpoint.optim.SGD;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.statedict.StateDict;
import java.nio.file.Path;
import java.time.Duration;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * A Java DDP rank in a process of its own, from torchrun's environment: SmallCnn from INIT_PT,
 * 5 SGD steps on this rank's half of dist_peer.py's CNN batch with
 * {@link DistributedDataParallel}, one LibTorch thread (as the Python ranks); rank 0 saves
 * {@code ddp.module.state_dict()} to OUT_PT. Exits 1 on any failure.
 *
 * <pre>{@code java ... io.ckpt4j.distributed.DdpRankMain INIT_PT OUT_PT TIMEOUT_S}</pre>
 */
public final class DdpRankMain {
  /** dist_peer.py's CNN_BATCH, CNN_STEPS and LR. */
  static final long BATCH = 8;
  static final int STEPS = 5;
  static final double LR = 0.1;

  private DdpRankMain() {}

  public static void main(String[] args) {
    try {
      torch.set_num_threads(1);
      DistributedOptions o = DistributedOptions.fromEnvironment()
          .withTimeout(Duration.ofSeconds(Long.parseLong(args[2])));
      SmallCnn model = new SmallCnn();
      try (LoadedCheckpoint init = CheckpointLoader.load(Path.of(args[0]),
          LoadOptions.defaults()); StateDict sd = StateDict.from(init)) {
        sd.loadInto(model.module());
      }
      try (ProcessGroup g = Distributed.init(o);
          DistributedDataParallel<SmallCnn> ddp = DistributedDataParallel.of(model, g);
          Optimizer sgd = new SGD(model.module().parameters(), SGD.options().lr(LR));
          PointerScope scope = new PointerScope()) {
        long shard = BATCH / g.worldSize();
        Tensor x = torch.sin(torch.arange(new Scalar(BATCH * SmallCnn.SIDE * SmallCnn.SIDE),
            new TensorOptions(torch.ScalarType.Float)).mul(new Scalar(0.1)))
            .reshape(BATCH, 1, SmallCnn.SIDE, SmallCnn.SIDE).narrow(0, g.rank() * shard, shard);
        Tensor y = torch.remainder(torch.arange(new Scalar(BATCH)),
            new Scalar(SmallCnn.CLASSES)).narrow(0, g.rank() * shard, shard);
        for (int step = 0; step < STEPS; step++) {
          sgd.zeroGrad();
          ddp.backward(torch.cross_entropy_loss(ddp.forward(x), y));
          sgd.step();
        }
        ddp.saveModuleStateDict(Path.of(args[1]));
      }
      System.exit(0);
    } catch (Throwable t) {
      System.out.println("failed: " + t);
      System.exit(1);
    }
  }
}
