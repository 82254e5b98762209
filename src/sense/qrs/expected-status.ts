/**
 * Which HTTP statuses count as success, per call kind. Kept in one table because several are marked
 * "(unconfirmed)" in QLIK-PROTOCOLS and may need correcting against a real site.
 */
export const EXPECTED_STATUS = {
  /** Butler treats a QRS GET as a success only on 200 (QLIK-PROTOCOLS §0.2). */
  read: [200],
  /** `POST /task/{id}/start` and `/task/start?name=`: 204, nothing else (QLIK-PROTOCOLS §0.2, §1.7). */
  start: [204],
  /** `start/synchronous`: 200 or 201 is unconfirmed (QLIK-PROTOCOLS §1.7), so accept both. */
  startSynchronous: [200, 201],
  /** `task/start/many`: "Return value -", 204 unconfirmed (QLIK-PROTOCOLS §1.7). */
  startMany: [200, 201, 204],
} as const satisfies Record<string, readonly number[]>

export type ExpectedStatus = keyof typeof EXPECTED_STATUS
