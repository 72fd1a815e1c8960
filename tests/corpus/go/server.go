// net/http samples for the Go starter rules.
package main

import (
	"crypto/tls"
	"database/sql"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

var db *sql.DB

func users(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	// ruleid: go-sql-injection
	rows, _ := db.Query("SELECT * FROM users WHERE name = '" + name + "'")
	defer rows.Close()
	// ok: go-sql-injection
	safe, _ := db.Query("SELECT * FROM users WHERE name = $1", name)
	defer safe.Close()
}

func ping(w http.ResponseWriter, r *http.Request) {
	host := r.FormValue("host")
	// ruleid: go-command-injection
	out, _ := exec.Command("sh", "-c", "ping -c 1 "+host).Output()
	// ok: go-command-injection
	safe, _ := exec.Command("ping", "-c", "1", "--", host).Output()
	w.Write(append(out, safe...))
}

func file(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("file")
	// ruleid: go-path-traversal
	data, _ := os.ReadFile(filepath.Join("/srv/files", name))
	// ok: go-path-traversal
	same, _ := os.ReadFile(filepath.Join("/srv/files", filepath.Base(name)))
	full := filepath.Clean(filepath.Join("/srv/files", name))
	if !strings.HasPrefix(full, "/srv/files/") {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	// ok: go-path-traversal
	checked, _ := os.ReadFile(full)
	w.Write(append(append(data, same...), checked...))
}

func login(w http.ResponseWriter, r *http.Request) {
	// ruleid: go-open-redirect
	http.Redirect(w, r, r.FormValue("next"), http.StatusFound)
}

func docs(w http.ResponseWriter, r *http.Request) {
	// ok: go-open-redirect
	http.Redirect(w, r, "/docs/"+r.FormValue("page"), http.StatusFound)
}

func client(internal bool) *http.Client {
	// ruleid: go-tls-skip-verify
	insecure := &tls.Config{InsecureSkipVerify: true}
	// ok: go-tls-skip-verify
	strict := &tls.Config{MinVersion: tls.VersionTLS12}
	cfg := strict
	if internal {
		cfg = insecure
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
}

func main() {
	http.HandleFunc("/users", users)
	http.ListenAndServe(":8080", nil)
}
