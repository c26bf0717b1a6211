<?php
// The notes application: GET lists every row of notes.notes as "id<TAB>body" lines;
// ?add=<text> (query string or POST field) inserts a row first. MariaDB is reached as
// `localhost`, which mysqli takes to mean its unix socket.
declare(strict_types=1);

header('Content-Type: text/plain; charset=utf-8');
mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);

$db = new mysqli('localhost', 'notes', 'notes-on-berth', 'notes');
$db->set_charset('utf8mb4');

$add = $_POST['add'] ?? $_GET['add'] ?? null;
if (is_string($add) && $add !== '') {
    $insert = $db->prepare('INSERT INTO notes (body) VALUES (?)');
    $insert->bind_param('s', $add);
    $insert->execute();
}

foreach ($db->query('SELECT id, body FROM notes ORDER BY id') as $row) {
    echo $row['id'], "\t", $row['body'], "\n";
}
