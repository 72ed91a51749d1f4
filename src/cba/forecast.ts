/**
 * Forecast against realised (pure). A benefit line forecasts that of the events it counts, the
 * share engagement × success × (1 − deadweight) × (1 − optimism bias) will not happen. The linked
 * families' costed events show what did: the events of the line's code in each family's twelve
 * months before its date taken on (the baseline) against the twelve months after. Both sides
 * are valued at the line's own unit cost in the case's price base, so the difference between
 * forecast and realised is the outcome alone, not two different price lists. The realised change
 * is a plain before-and-after: it has no comparison group, so it also counts what would have
 * happened anyway (src/cba/README.md says so beside the page).
 */
import { roundHalfAwayFromZero, type Pence } from '../core/money.ts';
import type { BusinessCase, ModelResults } from './domain.ts';

/** Events of one code among the linked families, before and after their dates taken on. */
export interface RealisedEvents {
  code: string;
  before: number;
  after: number;
}

export interface ForecastRow {
  index: number;
  outcome: string;
  code: string;
  /** The cohort the case assumed for the line, and the baseline the linked families had. */
  assumed_cohort: number;
  baseline_events: number;
  forecast_reduction: number;
  realised_reduction: number | null;
  forecast_avoided: number;
  realised_avoided: number;
  value_type: string;
  forecast_value_pence: Pence;
  realised_value_pence: Pence;
}

/** One row per benefit line whose unit cost code is an event the families record. */
export function compareForecast(
  model: BusinessCase,
  results: ModelResults,
  realised: RealisedEvents[],
): ForecastRow[] {
  const byCode = new Map(realised.map((r) => [r.code, r]));
  return results.lines.flatMap((l) => {
    const events = l.code === null ? undefined : byCode.get(l.code);
    if (!events) return [];
    const line = model.benefits[l.index]!;
    const reduction = line.engagement * line.success * (1 - line.deadweight) * (1 - l.optimism_bias);
    const forecastAvoided = events.before * reduction;
    const realisedAvoided = events.before - events.after;
    const unit = l.unit_cost_in_price_base_pence;
    return [
      {
        index: l.index,
        outcome: l.outcome,
        code: l.code!,
        assumed_cohort: line.cohort,
        baseline_events: events.before,
        forecast_reduction: Math.round(reduction * 1e4) / 1e4,
        realised_reduction:
          events.before > 0 ? Math.round((realisedAvoided / events.before) * 1e4) / 1e4 : null,
        forecast_avoided: Math.round(forecastAvoided * 100) / 100,
        realised_avoided: realisedAvoided,
        value_type: l.value_type,
        forecast_value_pence: roundHalfAwayFromZero(forecastAvoided * unit),
        realised_value_pence: roundHalfAwayFromZero(realisedAvoided * unit),
      },
    ];
  });
}
