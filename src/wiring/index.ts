/**
 * The composition root's adapters: each module here knows two capabilities and implements an
 * interface one of them declares (its "ports"), so that no capability imports another's store.
 * src/app.ts and src/cli.ts build them once and pass them in; nothing under a capability folder
 * imports src/wiring/.
 *
 * | adapter | declared by | implemented over |
 * | --- | --- | --- |
 * | `pot-income.ts` | families (`PotIncome`, income.ts) | the ledger |
 * | `agreement-poster.ts` | cba (`InvestmentAgreementPoster`, ports.ts) | the ledger |
 * | `realised-outcomes.ts` | cba (`RealisedOutcomesSource`, ports.ts) | families |
 * | `pot-funds.ts` | pb (`PotFunds`, funds.ts) | the ledger |
 * | `place-figures.ts` | network (`PlaceFigures`, figures.ts) | the ledger, families, cba |
 */
import type { CbaPorts } from '../cba/ports.ts';
import type { FamilyPorts } from '../families/income.ts';
import type { PlaceFigures } from '../network/figures.ts';
import type { PbPorts } from '../pb/funds.ts';
import { ledgerAgreementPoster } from './agreement-poster.ts';
import { livePlaceFigures } from './place-figures.ts';
import { ledgerPotFunds } from './pot-funds.ts';
import { ledgerPotIncome } from './pot-income.ts';
import { familiesRealisedSource } from './realised-outcomes.ts';

export interface Wiring {
  families: FamilyPorts;
  cba: CbaPorts;
  pb: PbPorts;
  network: { figures: PlaceFigures };
}

/** The adapters the product runs with; tests may build an app with others. */
export function buildWiring(): Wiring {
  return {
    families: { potIncome: ledgerPotIncome },
    cba: { agreementPoster: ledgerAgreementPoster, realisedOutcomes: familiesRealisedSource },
    pb: { potFunds: ledgerPotFunds },
    network: { figures: livePlaceFigures },
  };
}
