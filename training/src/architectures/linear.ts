// The 1-D case study's players (docs/REFERENCES.md#the-1-d-case-study): G(z) = z + θG, a single trainable shift, and the linear
// critic f(x) = θD·x (optionally + b). With data N(0, 1) every quantity of the game has a closed form,
// so the best-response manifolds and equilibria of each penalty can be checked exactly.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type LayerArgs = ConstructorParameters<typeof tfl.layers.Layer>[0];
type Kwargs = Parameters<tfl.layers.Layer['call']>[1];

/** x ↦ x + θ with one trainable scalar θ, broadcast over the features. */
export class ShiftLayer extends tfl.layers.Layer {
  static className = 'GantryShift';
  private readonly initialShift: number;
  private shift: tfl.LayerVariable | null = null;

  constructor(args: LayerArgs & { initialShift?: number }) {
    super(args);
    this.initialShift = args.initialShift ?? 0;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    this.shift = this.addWeight('shift', [1], 'float32', tfl.initializers.constant({ value: this.initialShift }));
    super.build(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.add(x, this.shift!.read());
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), initialShift: this.initialShift };
  }
}
// Checkpoints of a linear generator are tfjs model.json files naming this class.
tf.serialization.registerClass(ShiftLayer);

export interface LinearPairOptions {
  /** θG at initialisation. */
  initialShift: number;
  /** Every component of θD at initialisation. */
  initialWeight: number;
  /** D(x) = θD·x + b instead of θD·x. */
  discriminatorBias: boolean;
  /** D's input width: 1, or the packing factor m. */
  discriminatorInputs: number;
}

export function buildLinearGenerator(o: LinearPairOptions): tfl.Sequential {
  const g = tfl.sequential({ name: 'generator' });
  g.add(new ShiftLayer({ inputShape: [1], initialShift: o.initialShift }));
  return g;
}

export function buildLinearDiscriminator(o: LinearPairOptions): tfl.Sequential {
  const d = tfl.sequential({ name: 'discriminator' });
  d.add(
    tfl.layers.dense({
      inputShape: [o.discriminatorInputs],
      units: 1,
      useBias: o.discriminatorBias,
      kernelInitializer: tfl.initializers.constant({ value: o.initialWeight }),
    }),
  );
  return d;
}
