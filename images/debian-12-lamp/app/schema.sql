-- The notes application's database: its user (over the unix socket only) and its one table.
CREATE DATABASE IF NOT EXISTS notes CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'notes'@'localhost' IDENTIFIED BY 'notes-on-berth';
GRANT SELECT, INSERT ON notes.* TO 'notes'@'localhost';
CREATE TABLE IF NOT EXISTS notes.notes (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  body VARCHAR(1000) NOT NULL,
  created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB;
