import { makeEnsemble } from '../../model/make-ensemble.js';

export interface EnsembleFlags {
  classifier: string;
  retriever: string;
  out: string;
  classifierWeight: string;
}

/** `doppel ensemble`: one model directory from a classifier tower and a retriever tower. */
export async function ensembleCommand(flags: EnsembleFlags, log: (m: string) => void): Promise<void> {
  const classifierWeight = Number(flags.classifierWeight);
  const command = `doppel ensemble --classifier ${flags.classifier} --retriever ${flags.retriever} --out ${flags.out} --classifier-weight ${flags.classifierWeight}`;
  const { id } = await makeEnsemble({ classifier: flags.classifier, retriever: flags.retriever, out: flags.out, classifierWeight, command });
  log(`ensemble ${id} written to ${flags.out}: decides with ${flags.classifier}, indexes with both towers (classifier weight ${classifierWeight})`);
}
