-- The bundled database of the built-in `sql` task (rewardkit.tasks.builtin): singers, concerts,
-- customers and orders, built into a read-only SQLite file on first use.
CREATE TABLE singer (id INTEGER PRIMARY KEY, name TEXT NOT NULL, country TEXT NOT NULL, age INTEGER NOT NULL);
CREATE TABLE concert (id INTEGER PRIMARY KEY, singer_id INTEGER NOT NULL REFERENCES singer(id), year INTEGER NOT NULL,
                      venue TEXT NOT NULL);
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), amount REAL NOT NULL,
                     year INTEGER NOT NULL);
INSERT INTO singer VALUES (1, 'Ana', 'France', 31), (2, 'Bo', 'Sweden', 45), (3, 'Chen', 'China', 28),
  (4, 'Dara', 'France', 52), (5, 'Eli', 'Spain', 39), (6, 'Femi', 'Nigeria', 24);
INSERT INTO concert VALUES (1, 1, 2019, 'Olympia'), (2, 1, 2021, 'Bercy'), (3, 2, 2020, 'MSG'), (4, 3, 2021, 'Olympia'),
  (5, 3, 2021, 'MSG'), (6, 3, 2022, 'Bercy'), (7, 5, 2019, 'Olympia'), (8, 6, 2022, 'MSG');
INSERT INTO customers VALUES (1, 'Ines', 'Paris'), (2, 'Jon', 'Lyon'), (3, 'Kai', 'Paris'), (4, 'Lea', 'Nice'),
  (5, 'Max', 'Lyon');
INSERT INTO orders VALUES (1, 1, 120.0, 2021), (2, 1, 80.5, 2022), (3, 2, 45.0, 2021), (4, 3, 300.0, 2022),
  (5, 3, 15.0, 2022), (6, 4, 60.0, 2021), (7, 5, 99.9, 2022);
