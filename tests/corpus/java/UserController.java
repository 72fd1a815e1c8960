// Servlet and Spring MVC samples for the Java starter rules.
package com.example.demo;

import java.io.File;
import java.io.FileInputStream;
import java.io.ObjectInputStream;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import javax.servlet.http.HttpServletRequest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
public class UserController {
    private static final Path BASE = Paths.get("/srv/files");
    private final JdbcTemplate jdbc;
    private final Connection connection;

    public UserController(JdbcTemplate jdbc, Connection connection) {
        this.jdbc = jdbc;
        this.connection = connection;
    }

    @GetMapping("/users")
    public Object users(@RequestParam String name) throws Exception {
        // ruleid: java-sql-injection
        Object rows = jdbc.queryForList("SELECT * FROM users WHERE name = '" + name + "'");
        // ok: java-sql-injection
        Object same = jdbc.queryForList("SELECT * FROM users WHERE name = ?", name);
        return java.util.List.of(rows, same);
    }

    public ResultSet search(HttpServletRequest request) throws Exception {
        String term = request.getParameter("q");
        Statement statement = connection.createStatement();
        // ruleid: java-sql-injection
        ResultSet found = statement.executeQuery("SELECT id FROM items WHERE title LIKE '%" + term + "%'");
        PreparedStatement prepared = connection.prepareStatement("SELECT id FROM items WHERE title = ?");
        prepared.setString(1, term);
        // ok: java-sql-injection
        return prepared.executeQuery();
    }

    @GetMapping("/ping")
    public Process ping(@RequestParam String host) throws Exception {
        // ruleid: java-command-injection
        Runtime.getRuntime().exec("ping -c 1 " + host);
        // ok: java-command-injection
        return new ProcessBuilder("ping", "-c", "1", "--", host).start();
    }

    @GetMapping("/files/{name}")
    public byte[] file(@PathVariable String name) throws Exception {
        // ruleid: java-path-traversal
        FileInputStream in = new FileInputStream(new File("/srv/files/" + name));
        // ok: java-path-traversal
        Path safe = BASE.resolve(Paths.get(name).getFileName());
        return java.nio.file.Files.readAllBytes(safe);
    }

    public Object restore(HttpServletRequest request) throws Exception {
        // ruleid: java-unsafe-deserialization
        ObjectInputStream ois = new ObjectInputStream(request.getInputStream());
        return ois.readObject();
    }

    public Object restoreLocal() throws Exception {
        // ok: java-unsafe-deserialization
        ObjectInputStream ois = new ObjectInputStream(new FileInputStream("/var/lib/app/cache.bin"));
        return ois.readObject();
    }

    public byte[] fingerprint(byte[] data) throws Exception {
        // ruleid: java-weak-hash
        MessageDigest md5 = MessageDigest.getInstance("MD5");
        // ok: java-weak-hash
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        return sha.digest(md5.digest(data));
    }

    @GetMapping("/count/{id}")
    public Object count(@PathVariable long id) {
        // ok: java-sql-injection
        return jdbc.queryForObject("SELECT count(*) FROM orders WHERE user_id = " + id, Long.class);
    }
}
