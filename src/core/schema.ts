import type { AuditTables } from '../audit/tables.ts';
import type { AuthTables } from '../auth/tables.ts';
import type { CbaTables } from '../cba/tables.ts';
import type { FamiliesTables } from '../families/tables.ts';
import type { LedgerTables } from '../ledger/tables.ts';
import type { NetworkTables } from '../network/tables.ts';
import type { OutcomesTables } from '../outcomes/tables.ts';
import type { PbTables } from '../pb/tables.ts';
import type { PlacesTables } from '../places/tables.ts';
import type { ServicesTables } from '../services/tables.ts';
import type { SpendTables } from '../spend/tables.ts';

/** The whole database as Kysely sees it: each capability declares its own tables. */
export interface DB
  extends
    PlacesTables,
    AuthTables,
    AuditTables,
    LedgerTables,
    ServicesTables,
    SpendTables,
    CbaTables,
    FamiliesTables,
    OutcomesTables,
    NetworkTables,
    PbTables {}
