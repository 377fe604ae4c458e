"""Who each row's customer is: the store's directory, matching by id or email, creating, what each customer already has."""
