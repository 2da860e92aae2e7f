package io.ckpt4j.cli;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.checkpoint.Checkpoint;
import io.ckpt4j.checkpoint.optim.Optimizer;
import io.ckpt4j.checkpoint.optim.SGD;
import io.ckpt4j.checkpoint.sched.StepLR;
import io.ckpt4j.models.ResNet;
import io.ckpt4j.statedict.StateDict;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The last step of {@code ckpt4j demo}: a training checkpoint as the tutorial saves it —
 * {@code {'model', 'optimizer', 'lr_scheduler', 'epoch', 'args'}} — written after two SGD steps
 * on the small ResNet, read back into a fresh model, optimizer and scheduler, and resumed. (The
 * tests prove resuming lands on Python's weights in both directions; this shows the calls.)
 */
final class TrainingDemo {
  private static final long BATCH = 4;
  private static final long SEED = 7;

  private final Path dir;
  private final PrintWriter out;

  TrainingDemo(Path dir, PrintWriter out) {
    this.dir = dir;
    this.out = out;
  }

  void run(String arch, long classes, long width) throws CheckpointException {
    out.println("   h) A training checkpoint: {'model', 'optimizer', 'lr_scheduler', 'epoch',"
        + " 'args'}");
    torch.manual_seed(SEED);
    Path file = dir.resolve("checkpoint.pt");
    try (Tensor x = torch.randn(BATCH, 3, 32, 32);
        Tensor y = torch.randint(classes, new long[] {BATCH})) {
      try (ResNet model = ResNet.create(arch, classes, width);
          Optimizer optimizer = new SGD(model.module().parameters(),
              SGD.options().lr(0.1).momentum(0.9))) {
        StepLR scheduler = new StepLR(optimizer, 1, 0.5);
        double loss = 0;
        for (int epoch = 0; epoch < 2; epoch++) {
          loss = step(model, optimizer, x, y);
          scheduler.step();
        }
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("arch", arch);
        args.put("lr", 0.1);
        try (Checkpoint ckpt = Checkpoint.create().model(StateDict.of(model.module()))
            .optimizer(optimizer.stateDict()).lrScheduler(scheduler.stateDict()).epoch(2)
            .args(args)) {
          ckpt.save(file);
        }
        out.printf("     2 SGD steps (momentum 0.9, StepLR), loss %.4f, lr now %s; saved %s%n",
            loss, scheduler.getLastLr(), file.getFileName());
      }
      try (Checkpoint ckpt = Checkpoint.load(file); ResNet model = ResNet.create(arch, classes,
          width); Optimizer optimizer = new SGD(model.module().parameters(), SGD.options().lr(0.1)
              .momentum(0.9))) {
        ckpt.model().loadInto(model.module());
        optimizer.loadStateDict(ckpt.optimizer());
        StepLR scheduler = new StepLR(optimizer, 1, 0.5);
        scheduler.loadStateDict(ckpt.lrScheduler());
        out.printf("     loaded: keys %s, epoch %d, args %s, lr %s, %d of %d momentum buffers%n",
            ckpt.keys(), ckpt.epoch(), ckpt.args(), scheduler.getLastLr(),
            ckpt.optimizer().state().size(), ckpt.optimizer().parameterCount());
        double loss = step(model, optimizer, x, y);
        scheduler.step();
        out.printf("     resumed: one more step, loss %.4f, lr %s%n", loss, scheduler.getLastLr());
      }
    }
  }

  private static double step(ResNet model, Optimizer optimizer, Tensor x, Tensor y)
      throws CheckpointException {
    model.train(true);
    optimizer.zeroGrad();
    try (Tensor logits = model.forward(x); Tensor loss = torch.cross_entropy_loss(logits, y)) {
      loss.backward();
      optimizer.step();
      return loss.item_double();
    }
  }
}
