"""What the journal remembers of the store's customers: who an email is, a customer's emails, the customers
a run created (`customers_by_email`, `customers_by_id`, `customer_creates`).

    journal.customer_for_email(email) -> id | None;  journal.remember_customers([(email, id)])
    journal.customer_by_id(id) -> (email, [other emails]) | None;  journal.remember_customer_ids([(id, email, emails)])
    journal.set_customer_create(email, 'creating' | 'created', id)   # before POST /customers, and after its answer
    journal.created_customers(run_id) -> [(email, id)];  journal.forget_customer(email, id)   # undo
"""

from __future__ import annotations

from collections.abc import Iterable

from importer.journal.db import Database, now


class Customers(Database):
    def customer_for_email(self, email: str) -> int | None:
        row = self._read("SELECT customer_id FROM customers_by_email WHERE store_id=? AND email=?",
                         (self.store_id, email))  # fmt: skip
        return row[0][0] if row else None

    def customer_by_id(self, customer_id: int) -> tuple[str, list[str]] | None:
        """(email, other emails) of a customer an earlier read found; None if never read."""
        row = self._read("SELECT email, emails FROM customers_by_id WHERE store_id=? AND customer_id=?",
                         (self.store_id, customer_id))  # fmt: skip
        return (row[0][0], row[0][1].split()) if row else None

    def remember_customer(self, email: str, customer_id: int) -> None:
        self.remember_customers([(email, customer_id)])

    def remember_customers(self, items: Iterable[tuple[str, int]]) -> None:
        """(email, id) of customers a run found by email, in one commit."""
        at = now()
        self._write(("INSERT OR REPLACE INTO customers_by_email VALUES (?, ?, ?, ?)",
                     [(self.store_id, email, cid, at) for email, cid in items]))  # fmt: skip

    def remember_customer_id(self, customer_id: int, email: str, emails: Iterable[str]) -> None:
        self.remember_customer_ids([(customer_id, email, emails)])

    def remember_customer_ids(self, items: Iterable[tuple[int, str, Iterable[str]]]) -> None:
        """(id, email, other emails) of customers a run read, in one commit."""
        at = now()
        self._write(("INSERT OR REPLACE INTO customers_by_id VALUES (?, ?, ?, ?, ?)",
                     [(self.store_id, cid, email, " ".join(sorted(set(emails) - {email})), at)
                      for cid, email, emails in items]))  # fmt: skip

    def set_customer_create(self, email: str, state: str, customer_id: int | None = None) -> None:
        """Committed before the request leaves ('creating') and after its answer ('created')."""
        self._write(("INSERT OR REPLACE INTO customer_creates VALUES (?, ?, ?, ?, ?, ?)",
                     [(self.store_id, email, state, customer_id, self.run_id, now())]))  # fmt: skip

    def created_customers(self, run_id: str) -> list[tuple[str, int]]:
        """(email, id) of the customers `run_id` created with --create-customers (whose create landed)."""
        return [(email, cid) for email, cid in self._read(
            "SELECT email, customer_id FROM customer_creates WHERE store_id=? AND run_id=? AND state='created'"
            " AND customer_id IS NOT NULL ORDER BY email", (self.store_id, run_id))]  # fmt: skip

    def forget_customer(self, email: str, customer_id: int) -> None:
        """A customer undo deleted: no later run may take its id from the journal."""
        key = (self.store_id, customer_id)
        self._write(
            ("UPDATE customer_creates SET state='deleted', updated_at=? WHERE store_id=? AND email=?",
             [(now(), self.store_id, email)]),
            ("DELETE FROM customers_by_email WHERE store_id=? AND customer_id=?", [key]),
            ("DELETE FROM customers_by_id WHERE store_id=? AND customer_id=?", [key]),
        )  # fmt: skip
