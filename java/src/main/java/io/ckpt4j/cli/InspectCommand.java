package io.ckpt4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.CheckpointTree;
import io.ckpt4j.load.Format;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ckpt4j inspect [--json] FILE}: what a checkpoint holds, without loading it anywhere. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
    description = "List a checkpoint's keys, dtypes, shapes, saved devices and sizes.")
final class InspectCommand implements Callable<Integer> {
  @Parameters(paramLabel = "FILE", description = "a .pt/.pth/.pkl/.bin/.ckpt/.safetensors file,"
      + " a shard index (model.safetensors.index.json), a model directory or a .pt2 archive"
      + " (torch.export.save)")
  Path file;

  @Option(names = "--json", description = "print one JSON document (format + one entry per leaf)")
  boolean json;

  @Mixin GlobalsOptions globals;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws CheckpointException {
    // Tensor bytes are mapped (not read) and only to hash them; nothing goes to a device.
    LoadOptions options = globals.mappedOnCpu();
    PrintWriter out = spec.commandLine().getOut();
    Format format = CheckpointLoader.detect(file);
    if (format == Format.TORCHSCRIPT || format == Format.LIBTORCH) {
      // Archives hold code: report what they are, read nothing else.
      if (json) {
        out.println(InspectJson.toJson(InspectJson.archiveDocument(format)));
      } else {
        out.printf("%s  (%s archive)%n", file, format.jsonName());
        out.println(CheckpointLoader.archiveNote(file));
      }
      out.flush();
      return 0;
    }
    if (format == Format.AOTINDUCTOR) {
      // Compiled code: say what it holds, read nothing else.
      if (json) {
        ObjectNode doc = InspectJson.archiveDocument(format);
        doc.set("archive", InspectPt2.json(file, null));
        out.println(InspectJson.toJson(doc));
      } else {
        InspectPt2.print(file, out);
        out.println(CheckpointLoader.archiveNote(file));
      }
      out.flush();
      return 0;
    }
    String model = format == Format.PT2 ? InspectPt2.readModel(file, options.pt2Model()) : null;
    if (json) {
      // The document hashes each tensor's elements: the one inspect that makes tensors.
      try (LoadedCheckpoint checkpoint = CheckpointLoader.load(file, options)) {
        printWarnings(checkpoint.tree());
        ObjectNode doc = InspectJson.document(checkpoint);
        if (model != null) doc.set("archive", InspectPt2.json(file, model));
        out.println(InspectJson.toJson(doc));
      }
    } else {
      // Structure only: no tensor bytes read and LibTorch never loaded (a fast start).
      CheckpointTree tree = CheckpointLoader.describe(file, options);
      printWarnings(tree);
      if (model != null) {
        InspectPt2.print(file, out);
        InspectText.printProgram(tree, model, out);
      } else {
        InspectText.print(tree, out);
      }
    }
    out.flush();
    return 0;
  }

  private void printWarnings(CheckpointTree tree) {
    PrintWriter err = spec.commandLine().getErr();
    for (String warning : tree.warnings()) err.println("warning: " + warning);
    err.flush();
  }
}
