package io.ckpt4j.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.Architectures.LayeredArchitecture;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package graph of the library, checked on its bytecode: each layer uses only the layers
 * below it (docs/ARCHITECTURE.md names them), no package cycle at any depth, and the value model
 * knows nothing of LibTorch.
 */
class PackageGraphTest {
  /**
   * Bottom to top. A package may use the ones before it in this list, never one after it. Each
   * entry is an ArchUnit package pattern.
   */
  static final List<String> LAYERS = List.of(
      "io.ckpt4j",               // CheckpointException and its kinds
      "io.ckpt4j.fs..",          // atomic files
      "io.ckpt4j.container..",   // zip, safetensors: bytes in, entries out
      "io.ckpt4j.layout..",      // layouts: Hugging Face shard indexes, .pt2 archives
      "io.ckpt4j.value..",       // the Python value model a pickle yields
      "io.ckpt4j.pickle..",      // the restricted unpickler and the writer
      "io.ckpt4j.nativeio..",    // JavaCPP bindings of native/
      "io.ckpt4j.tensor..",      // materialization into LibTorch, map_location
      "io.ckpt4j.load..",        // torch.load's formats, CheckpointLoader
      "io.ckpt4j.save..",        // torch.save's format
      "io.ckpt4j.nn..",          // the module interface
      "io.ckpt4j.statedict..",   // state dicts, strict loading, whole models
      "io.ckpt4j.models..",      // ResNet
      "io.ckpt4j.libtorch..",    // TorchScript and LibTorch archives
      "io.ckpt4j.aoti..",        // AOTInductor packages (torch.export + Inductor), run
      "io.ckpt4j.parallel..",    // DataParallel
      "io.ckpt4j.distributed..", // c10d process groups, DistributedSampler
      "io.ckpt4j.checkpoint.optim..",
      "io.ckpt4j.checkpoint.sched..",
      "io.ckpt4j.checkpoint",    // training checkpoints
      "io.ckpt4j.scan..",        // scanning uploads: anomalies, globals, size lies
      "io.ckpt4j.diff..",        // comparing two checkpoints
      "io.ckpt4j.cli..");

  private static JavaClasses classes;

  @BeforeAll
  static void importClasses() {
    classes = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
        .importPackages("io.ckpt4j");
  }

  @Test
  void eachLayerUsesOnlyTheLayersBelowIt() {
    LayeredArchitecture layers = layeredArchitecture().consideringOnlyDependenciesInLayers();
    for (int i = 0; i < LAYERS.size(); i++) layers = layers.layer(name(i)).definedBy(LAYERS.get(i));
    for (int i = 0; i < LAYERS.size() - 1; i++) {
      String[] above = new String[LAYERS.size() - 1 - i];
      for (int j = i + 1; j < LAYERS.size(); j++) above[j - i - 1] = name(j);
      layers = layers.whereLayer(name(i)).mayOnlyBeAccessedByLayers(above);
    }
    layers = layers.whereLayer(name(LAYERS.size() - 1)).mayNotBeAccessedByAnyLayer();
    layers.check(classes);
  }

  @Test
  void noPackageCycleAtAnyDepth() {
    slices().matching("io.ckpt4j.(**)").should().beFreeOfCycles().check(classes);
  }

  @Test
  void theValueModelImportsNoLibTorchClass() {
    noClasses().that().resideInAPackage("io.ckpt4j.value..")
        .should().dependOnClassesThat().resideInAPackage("org.bytedeco..")
        .check(classes);
  }

  @Test
  void containersAndPickleImportNoLibTorchClass() {
    noClasses().that().resideInAnyPackage("io.ckpt4j.container..", "io.ckpt4j.layout..",
            "io.ckpt4j.pickle..")
        .should().dependOnClassesThat().resideInAPackage("org.bytedeco..")
        .check(classes);
  }

  private static String name(int layer) {
    return "L" + layer + " " + LAYERS.get(layer);
  }
}
