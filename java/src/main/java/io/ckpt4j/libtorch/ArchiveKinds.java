package io.ckpt4j.libtorch;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.container.zip.TorchZip;
import io.ckpt4j.container.zip.ZipArchive;
import io.ckpt4j.container.zip.ZipKind;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.Format;
import java.nio.file.Path;

/**
 * Says, from its bytes and before LibTorch sees it, whether a file is an archive LibTorch 2.13
 * can load: a TorchScript zip ({@code torch.jit.save}, or a C++ {@code torch::save} of a module,
 * which is the same format). Everything else gets a one-line error naming what the file is
 * and what reads it instead.
 */
final class ArchiveKinds {
  /** Who wrote the 2019 model.json archives. */
  private static final String MODEL_JSON_AGE =
      "the model.json format of torch 1.0 to 1.2 (2018-2019)";

  private ArchiveKinds() {}

  /** Checks that {@code file} is a TorchScript archive LibTorch 2.13 reads. */
  static void requireTorchScript(Path file) throws CheckpointException {
    require(file, "TorchScript archive (torch.jit.save)", "TorchScript.load");
  }

  /** Checks that {@code file} is a LibTorch module archive (torch::save / OutputArchive). */
  static void requireModuleArchive(Path file) throws CheckpointException {
    require(file, "LibTorch module archive (torch::save / OutputArchive)", "LibTorchArchives.load");
  }

  private static void require(Path file, String wanted, String api) throws CheckpointException {
    Format format = CheckpointLoader.detect(file);
    switch (format) {
      case TORCHSCRIPT, LIBTORCH -> {
        if (isModelJson(file)) throw oldFormat(file, format);
      }
      case ZIP, LEGACY -> throw new CheckpointException(Kind.WRONG_LOADER,
          file + " is a torch.save checkpoint ("
          + format.jsonName() + " format), not a " + wanted + ": it holds data, not a model;"
          + " read it with CheckpointLoader.load, which never runs code, and load its state_dict"
          + " into a model built in Java");
      case HF_SHARDED -> throw new CheckpointException(Kind.WRONG_LOADER,
          file + " is a Hugging Face sharded checkpoint, not a " + wanted + ": read it with CheckpointLoader.load and load its"
          + " state_dict into a model built in Java");
      case PT2 -> throw new CheckpointException(Kind.UNSUPPORTED_FORMAT,
          file + " is a torch.export program archive (.pt2), not a " + wanted + ": running"
          + " exported programs is not supported yet; read its weights with"
          + " CheckpointLoader.load / StateDict.from (CLI: ckpt4j convert " + file
          + " OUT.pt) and load them into a model built in Java, or save the model with"
          + " torch.jit.save to run it here");
      case AOTINDUCTOR -> throw new CheckpointException(Kind.WRONG_LOADER,
          file + " is an AOTInductor package (.pt2: compiled native code), not a " + wanted
          + ": run it with io.ckpt4j.aoti.ExportedModel.load (CLI: ckpt4j run " + file
          + " --input X.pt --output Y.pt)");
      case SAFETENSORS -> throw new CheckpointException(Kind.WRONG_LOADER,
          file + " is a safetensors file, not a "
          + wanted + ": read it with CheckpointLoader.load and load the tensors into a model"
          + " built in Java");
    }
  }

  private static boolean isModelJson(Path file) throws CheckpointException {
    try (ZipArchive zip = ZipArchive.open(file)) {
      return TorchZip.inspect(zip).kind() == ZipKind.OLD_MODEL_JSON;
    }
  }

  private static CheckpointException oldFormat(Path file, Format format) {
    String what = format == Format.TORCHSCRIPT
        ? "a TorchScript archive in " + MODEL_JSON_AGE
        : "a LibTorch C++ module archive (torch::save) in " + MODEL_JSON_AGE;
    return new CheckpointException(Kind.UNSUPPORTED_FORMAT,
        file + " is " + what + ", which LibTorch 2.13 cannot read"
        + " (torch.jit.load: \"Legacy model format is not supported\"): load it with torch 1.x"
        + " and save it again with a recent torch");
  }
}
