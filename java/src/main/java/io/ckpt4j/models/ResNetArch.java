package io.ckpt4j.models;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * torchvision's ResNet architectures: the residual block each uses and how many blocks each of
 * its four stages ({@code layer1} .. {@code layer4}) stacks, as in
 * {@code torchvision.models.resnet}.
 */
public enum ResNetArch {
  RESNET18(Block.BASIC, 2, 2, 2, 2),
  RESNET34(Block.BASIC, 3, 4, 6, 3),
  RESNET50(Block.BOTTLENECK, 3, 4, 6, 3),
  RESNET101(Block.BOTTLENECK, 3, 4, 23, 3),
  RESNET152(Block.BOTTLENECK, 3, 8, 36, 3);

  /** torchvision's residual blocks and their channel expansion (block output / planes). */
  public enum Block {
    /** Two 3x3 convolutions ({@code BasicBlock}, expansion 1). */
    BASIC(1),
    /** 1x1, 3x3 (strided), 1x1 convolutions ({@code Bottleneck}, ResNet v1.5, expansion 4). */
    BOTTLENECK(4);

    private final int expansion;

    Block(int expansion) {
      this.expansion = expansion;
    }

    /** torchvision's {@code block.expansion}: output channels per plane. */
    public int expansion() {
      return expansion;
    }
  }

  private final Block block;
  private final int[] blocksPerStage;

  ResNetArch(Block block, int... blocksPerStage) {
    this.block = block;
    this.blocksPerStage = blocksPerStage;
  }

  /** The residual block the stages stack. */
  public Block block() {
    return block;
  }

  /** Blocks in {@code layer1} .. {@code layer4} (torchvision's {@code layers} argument). */
  public int[] blocksPerStage() {
    return blocksPerStage.clone();
  }

  /** torchvision's name: {@code "resnet18"} .. {@code "resnet152"}. */
  public String pythonName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Every name {@link #of} accepts. */
  public static List<String> names() {
    return Arrays.stream(values()).map(ResNetArch::pythonName).collect(Collectors.toList());
  }

  /**
   * The architecture torchvision calls {@code name} ({@code "resnet18"} .. {@code "resnet152"},
   * case-insensitive).
   *
   * @throws IllegalArgumentException for any other name
   */
  public static ResNetArch of(String name) {
    for (ResNetArch arch : values()) {
      if (arch.pythonName().equalsIgnoreCase(name.trim())) return arch;
    }
    throw new IllegalArgumentException("unknown ResNet architecture '" + name + "': use one of "
        + String.join(", ", names()));
  }
}
